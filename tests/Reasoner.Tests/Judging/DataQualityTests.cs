using Reasoner.Core.Judging;
using Reasoner.Core.Problems;
using Reasoner.Core.Quality;
using Reasoner.Core.Trees;
using Reasoner.Core.Export;
using Reasoner.Tests.Export;

namespace Reasoner.Tests.Judging;

/// <summary>Gold labels of a hand-built MCTS tree, and every data-quality figure worked out from them by hand.</summary>
public class DataQualityTests
{
    private static readonly Problem Ravi = new("arith-ravi", "arith",
        "Ravi has 9 stamps. He loses 3 stamps. He splits the stamps into 3 equal groups and keeps one group. He wins 6 more stamps. How many stamps does Ravi have now?",
        "8", AnswerKind.Number)
    {
        ReferenceSteps =
        [
            "Ravi has 9 stamps and loses 3, so he has 9 - 3 = 6 stamps.",
            "He keeps one of 3 equal groups, so he has 6 / 3 = 2 stamps.",
            "He wins 6 more, so he has 2 + 6 = 8 stamps.",
            "The answer is 8.",
        ],
    };

    /// <code>
    /// root
    /// ├─ A   valid      Q .8  self .9   MC .75 N10 ─┬─ A1 valid   Q .7  self .6  MC 1  N6 ── A1a valid Q .9 self .95 MC 1 N4 ── A1at correct (derived)
    /// │                                            └─ A2 invalid Q -.5 self .7  MC 0  N3 ── A2t right answer, a guess (Q .5)
    /// └─ B   invalid (9 - 3 = 5)  Q .1 self .8 MC .25 N5 ─┬─ B1 invalid (changes 6, which nobody holds) Q .3 self .5 MC .5 N3
    ///                                                    └─ B2 invalid (states 5)                      Q -.2 self .2 MC 0 N1
    /// </code>
    public static PreferenceTree Tree()
    {
        var tree = new PreferenceTree
        {
            Problem = Ravi,
            ModelId = "hand",
            Search = new SearchSettings(AlgorithmNames.Mcts, new Dictionary<string, string> { ["world.solvePrompt"] = "bare" }),
        };
        TreeNode Step(TreeNode parent, string text, double q, double self, double? mc, int visits)
        {
            var node = tree.AddChild(parent, text);
            (node.Q, node.SelfEval, node.MonteCarloValue, node.Visits) = (q, self, mc, visits);
            return node;
        }
        void Answer(TreeNode node, bool correct) => (node.IsTerminal, node.Answer, node.IsCorrect, node.Outcome) = (true, "8", correct, correct ? 1 : 0);
        var a = Step(tree.Root, "Ravi has 9 stamps and loses 3, so he has 9 - 3 = 6 stamps.", 0.8, 0.9, 0.75, 10);
        var a1 = Step(a, "He keeps one of 3 equal groups, so he has 6 / 3 = 2 stamps.", 0.7, 0.6, 1, 6);
        var a1a = Step(a1, "He wins 6 more, so he has 2 + 6 = 8 stamps.", 0.9, 0.95, 1, 4);
        Answer(Step(a1a, "The answer is 8.", 1, 0.9, null, 3), correct: true);
        var a2 = Step(a, "He keeps one of 3 equal groups, so he has 6 / 3 = 3 stamps.", -0.5, 0.7, 0, 3);
        Answer(Step(a2, "The answer is 8.", 0.5, 0.5, null, 2), correct: true);
        var b = Step(tree.Root, "Ravi has 9 stamps and loses 3, so he has 9 - 3 = 5 stamps.", 0.1, 0.8, 0.25, 5);
        Step(b, "He keeps one of 3 equal groups, so he has 6 / 3 = 2 stamps.", 0.3, 0.5, 0.5, 3);
        Step(b, "He has 5 stamps.", -0.2, 0.2, 0, 1);
        return tree;
    }

    [Fact]
    public void EveryNodeIsLabelledInTheContextOfItsPath()
    {
        var tree = Tree();
        var gold = GoldLabels.Of(tree);
        var labels = tree.Nodes.Skip(1).Select(n => gold.Judgement(n)!.Label).ToList();
        Assert.Equal([StepLabel.Valid, StepLabel.Valid, StepLabel.Valid, StepLabel.Correct, StepLabel.Invalid, StepLabel.Invalid,
            StepLabel.Invalid, StepLabel.Invalid, StepLabel.Invalid], labels);
        Assert.Equal([1.0, 1, 1, 1, 0, 0, 0, 0, 0], tree.Nodes.Skip(1).Select(gold.Value));
        Assert.True(gold.IsLuckyAnswer(tree.Nodes[6]));
        Assert.False(gold.IsLuckyAnswer(tree.Nodes[4]));
        Assert.True(gold.Sound(tree.Nodes[2], tree.Nodes[4]));
        Assert.False(gold.Sound(tree.Nodes[5], tree.Nodes[6]));
    }

    [Fact]
    public void TheReportCountsWhatTheTreeShows()
    {
        var family = Assert.Single(DataQuality.Measure([Tree()]).Families);

        Assert.Equal(new LabelCounts(Valid: 3, Neutral: 0, Invalid: 5, Correct: 1, Incorrect: 0), family.Labels);
        Assert.Equal((1, 1), (family.TreesWithCorrectPath, family.TreesWithSoundCorrectPath));
        Assert.Equal(new OutcomeFalsePositives(2, 1), family.Outcomes);

        // export's pairs by Q at its 0.375 margin: A over B and A1 over A2 are right; B1 over B2 sits on B's invalid prefix.
        var exportQ = family.Pairs.Single(p => p.Source == "export" && p.Value == NodeValueKind.Q && p.MinMargin == 0.375);
        Assert.True(exportQ.IsDefault);
        Assert.Equal((3, 1, 2, 0, 0, 0), (exportQ.Pairs, exportQ.OnInvalidPrefix, exportQ.Right, exportQ.Wrong, exportQ.BothSound, exportQ.BothUnsound));
        // By self-evaluation at margin 0, A2 (.7) is chosen over A1 (.6): one right, one wrong.
        var exportSelf = family.Pairs.Single(p => p.Source == "export" && p.Value == NodeValueKind.SelfEval && p.MinMargin == 0);
        Assert.Equal((3, 1, 1, 1), (exportSelf.Pairs, exportSelf.OnInvalidPrefix, exportSelf.Right, exportSelf.Wrong));
        Assert.Equal(0.5, exportSelf.Precision);
        // At 0.25 only B1 over B2 (.3 apart) is left.
        Assert.Equal(1, family.Pairs.Single(p => p.Source == "export" && p.Value == NodeValueKind.SelfEval && p.MinMargin == 0.25).Pairs);
        // train dpo's: along the most visited path (root, A), best vs worst, sides with their single-child chains.
        var train = family.Pairs.Single(p => p.Source == "train dpo" && p.IsDefault);
        Assert.Equal((NodeValueKind.Q, 0.0, 2, 0, 2, 0), (train.Value, train.MinMargin, train.Pairs, train.OnInvalidPrefix, train.Right, train.Wrong));

        // Stepwise labels by Q > 0 on the two root-to-terminal paths: only the guess (Q .5) is labelled good wrongly.
        var stepwise = family.Stepwise.Single(s => s.Value == NodeValueKind.Q);
        Assert.Equal((5, 1, 0, 1), (stepwise.TruePositive, stepwise.FalsePositive, stepwise.FalseNegative, stepwise.TrueNegative));

        var self = family.Auc.Single(a => a.Value == NodeValueKind.SelfEval);
        Assert.Equal((3, 4), (self.Valid, self.Invalid));
        Assert.Equal(10.0 / 12, self.Auc!.Value, 12);
        Assert.Equal(1.0, family.Auc.Single(a => a.Value == NodeValueKind.MonteCarloValue).Auc);
    }

    [Fact]
    public void ThePolicysOwnLogProbabilityPerTokenIsGradedWhereStepsRecordTheirTokens()
    {
        var tree = Tree();
        Assert.DoesNotContain(Assert.Single(DataQuality.Measure([tree]).Families).Auc, a => a.Value == NodeValueKind.PolicyLogProb);

        // Per token: valid A -.1, A1 -.2, A1a -.5; invalid A2 -.3, B -1, B1 -.4, B2 -2 (terminals are not graded).
        foreach (var (index, logProb, tokens) in new[] { (1, -0.3, 3), (2, -0.4, 2), (3, -2.0, 4), (4, -0.1, 1), (5, -1.5, 5), (6, -0.1, 1), (7, -4.0, 4), (8, -0.8, 2), (9, -2.0, 1) })
            (tree.Nodes[index].LogProb, tree.Nodes[index].TokenCount) = (logProb, tokens);
        var policy = Assert.Single(DataQuality.Measure([tree]).Families).Auc.Single(a => a.Value == NodeValueKind.PolicyLogProb);
        Assert.Equal((3, 4), (policy.Valid, policy.Invalid));
        // A and A1 rank above every invalid step, A1a only above B and B2: 10 of 12 pairs.
        Assert.Equal(10.0 / 12, policy.Auc!.Value, 12);
    }

    [Fact]
    public void TreesOfOtherFamiliesAreCountedNotGraded()
    {
        var other = SampleTrees.Arithmetic();
        var gsm = new PreferenceTree { Problem = other.Problem with { Family = "gsm8k" }, ModelId = "m", Search = other.Search };
        var report = DataQuality.Measure([Tree(), gsm]);
        Assert.Equal((2, 1), (report.Trees, report.NotJudged));
        Assert.Equal(["gsm8k"], report.NotJudgedFamilies);
        Assert.Equal(NodeValueKind.Q, report.RankingValue);
    }

    [Fact]
    public void GoldValuesRankPairsAsAnOracle()
    {
        var (trees, value) = GoldValues.Resolve([Tree()], NodeValueKind.Gold);
        var (lines, _) = JsonlOutput.Capture(stream => TrlPreferenceExport.Write(trees, stream, new TrlPreferenceOptions { Pairs = PairDefaults.ForExport(value) }));
        // Gold separates A from B and A1 from A2; B's children are both unsound, so they make no pair.
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.DoesNotContain("= 5", l.GetProperty("chosen").GetString()));
        Assert.Contains(lines, l => l.GetProperty("chosen").GetString()!.Contains("6 / 3 = 2") && l.GetProperty("rejected").GetString()!.Contains("6 / 3 = 3"));

        var other = SampleTrees.Arithmetic();
        var gsm = new PreferenceTree { Problem = other.Problem with { Family = "gsm8k" }, ModelId = "m", Search = other.Search };
        Assert.Throws<ArgumentException>(() => GoldValues.Resolve([gsm], NodeValueKind.Gold).Trees.ToList());
    }
}
