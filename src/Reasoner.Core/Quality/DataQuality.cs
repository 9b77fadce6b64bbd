using Reasoner.Core.Export;
using Reasoner.Core.Judging;
using Reasoner.Core.Statistics;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Quality;

/// <summary>How many steps got each gold label.</summary>
public sealed record LabelCounts(int Valid, int Neutral, int Invalid, int Correct, int Incorrect)
{
    public int Total => Valid + Neutral + Invalid + Correct + Incorrect;
}

/// <summary>Correct-answer terminals, and how many of them were reached through an invalid step: the outcome reward's false positives.</summary>
public sealed record OutcomeFalsePositives(int CorrectTerminals, int ThroughInvalidStep)
{
    public double? Share => CorrectTerminals == 0 ? null : (double)ThroughInvalidStep / CorrectTerminals;
}

/// <summary>
/// The pairs one recipe takes from a run, against gold. A side is sound when every step in it, its continuation
/// included, is valid, neutral or a correct answer. Pairs whose shared prefix has already gone wrong are counted apart;
/// the rest are right (chosen sound, rejected not), wrong (the reverse) or alike (both sound, or both not).
/// </summary>
public sealed record PairPrecision(string Source, NodeValueKind Value, double MinMargin, bool IsDefault,
    int Pairs, int OnInvalidPrefix, int Right, int Wrong, int BothSound, int BothUnsound)
{
    /// <summary>Right among the pairs that gold can order: right / (right + wrong).</summary>
    public double? Precision => Right + Wrong == 0 ? null : (double)Right / (Right + Wrong);
}

/// <summary>TRL stepwise labels (value above the threshold) against gold: a step is good when the path down to it is sound.</summary>
public sealed record StepwiseAgreement(NodeValueKind Value, double Threshold, bool IsDefault, int TruePositive, int FalsePositive, int FalseNegative, int TrueNegative)
{
    public int Steps => TruePositive + FalsePositive + FalseNegative + TrueNegative;

    public double? Accuracy => Steps == 0 ? null : (double)(TruePositive + TrueNegative) / Steps;
}

/// <summary>How well a node value separates valid from invalid non-terminal steps (neutral ones left out).</summary>
public sealed record ValueAuc(NodeValueKind Value, int Valid, int Invalid, double? Auc)
{
    /// <summary>The AUC's 95 % interval (<see cref="Statistics.Auc.Interval"/>); null when there is no AUC.</summary>
    public Statistics.Interval? Interval => Auc is { } auc ? Statistics.Auc.Interval(auc, Valid, Invalid) : null;
}

/// <summary>The data-quality figures of one task family's trees.</summary>
public sealed record FamilyQuality(string Family, int Trees, int TreesWithCorrectPath, int TreesWithSoundCorrectPath, LabelCounts Labels,
    OutcomeFalsePositives Outcomes, IReadOnlyList<PairPrecision> Pairs, IReadOnlyList<StepwiseAgreement> Stepwise, IReadOnlyList<ValueAuc> Auc);

/// <summary>A run graded against gold step labels, family by family; trees that cannot be judged are counted, not graded.</summary>
public sealed record DataQualityReport(int Trees, int NotJudged, IReadOnlyList<string> NotJudgedFamilies, NodeValueKind? RankingValue, IReadOnlyList<FamilyQuality> Families);

/// <summary>
/// Grades stored search trees of the built-in tasks with the gold step labels (<see cref="GoldLabels"/>): how often the
/// outcome reward praises a lucky path, how precise the preference pairs that training and export take are, how
/// accurate the stepwise labels are, and how well self-evaluation and roll-out values rank valid above invalid steps.
/// </summary>
public static class DataQuality
{
    /// <summary>The pair margins every value is graded at, besides each recipe's own default.</summary>
    public static IReadOnlyList<double> Margins { get; } = [0, 0.25, 0.5];

    /// <summary>The values pairs and stepwise labels are graded by, where the run has them.</summary>
    private static readonly NodeValueKind[] RankingKinds =
        [NodeValueKind.Q, NodeValueKind.MonteCarloValue, NodeValueKind.SelfEval, NodeValueKind.Outcome, NodeValueKind.StepValue, NodeValueKind.VerifierScore];

    /// <summary>
    /// The values whose AUC against step validity is measured, where the run has them; the policy's own log-probability
    /// of a step is there as the baseline that self-evaluation, a one-token judgement by the same model, is read against.
    /// </summary>
    private static readonly NodeValueKind[] AucKinds =
        [NodeValueKind.SelfEval, NodeValueKind.PolicyLogProb, NodeValueKind.MonteCarloValue, NodeValueKind.VerifierScore, NodeValueKind.Q, NodeValueKind.StepValue];

    public static DataQualityReport Measure(IReadOnlyList<PreferenceTree> trees)
    {
        var completed = trees.Where(t => t.Status == TreeStatus.Completed).ToList();
        var judged = completed.Where(t => StepJudges.Supports(t.Problem.Family)).ToList();
        var notJudgedFamilies = completed.Select(t => t.Problem.Family).Where(f => !StepJudges.Supports(f)).Distinct().Order(StringComparer.Ordinal).ToList();
        NodeValueKind? ranking;
        try { ranking = PairDefaults.RankingValue(judged.Select(t => t.Search.Algorithm)); }
        catch (ArgumentException) { ranking = null; } // several algorithms: no one default
        var families = judged.GroupBy(t => t.Problem.Family).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => Family(g.Key, g.Select(GoldLabels.Of).ToList(), ranking)).ToList();
        return new DataQualityReport(trees.Count, trees.Count - judged.Count, notJudgedFamilies, ranking, families);
    }

    private static FamilyQuality Family(string family, IReadOnlyList<GoldLabels> trees, NodeValueKind? ranking)
    {
        var steps = trees.SelectMany(g => g.Tree.Nodes.Skip(1).Select(n => (Gold: g, Node: n))).ToList();
        int Count(StepLabel label) => steps.Count(s => s.Gold.Judgement(s.Node)!.Label == label);
        var labels = new LabelCounts(Count(StepLabel.Valid), Count(StepLabel.Neutral), Count(StepLabel.Invalid), Count(StepLabel.Correct), Count(StepLabel.Incorrect));
        var correctTerminals = steps.Where(s => s.Node.IsTerminal && s.Node.IsCorrect == true).ToList();
        var outcomes = new OutcomeFalsePositives(correctTerminals.Count, correctTerminals.Count(s => s.Gold.IsLuckyAnswer(s.Node)));

        var present = RankingKinds.Where(k => steps.Any(s => Has(k, s.Node))).ToList();
        var pairs = new List<PairPrecision>();
        foreach (var source in new[] { "train dpo", "export" })
            foreach (var kind in present)
            {
                var selector = NodeValues.Of(kind);
                var margins = Margins.ToList();
                double defaultMargin = source == "export" ? StepPairOptions.TreePlv.MinMargin : 0;
                if (!margins.Contains(defaultMargin)) margins.Add(defaultMargin);
                foreach (var margin in margins.Order())
                {
                    var options = (source == "export" ? PairDefaults.ForExport(selector) : PairDefaults.ForTraining(kind, selector)) with { MinMargin = margin };
                    pairs.Add(Pairs(source, kind, margin, kind == ranking && margin == defaultMargin, trees, options));
                }
            }

        var stepwise = present.Where(k => k != NodeValueKind.Outcome)
            .Select(k => Stepwise(k, k == ranking, trees)).ToList();
        var auc = AucKinds.Where(k => steps.Any(s => Has(k, s.Node))).Select(k =>
        {
            var scored = steps.Where(s => !s.Node.IsTerminal && NodeValues.Of(k)(s.Node) is { } v && double.IsFinite(v)).ToList();
            var valid = scored.Where(s => s.Gold.Judgement(s.Node)!.Label == StepLabel.Valid).Select(s => NodeValues.Of(k)(s.Node)!.Value).ToList();
            var invalid = scored.Where(s => s.Gold.Judgement(s.Node)!.Label == StepLabel.Invalid).Select(s => NodeValues.Of(k)(s.Node)!.Value).ToList();
            return new ValueAuc(k, valid.Count, invalid.Count, Statistics.Auc.Compute(valid, invalid));
        }).ToList();

        return new FamilyQuality(family, trees.Count,
            trees.Count(g => g.Tree.HasCorrectPath),
            trees.Count(g => g.Tree.Terminals.Any(t => !t.IsRoot && t.IsCorrect == true && g.PathSound(t))),
            labels, outcomes, pairs, stepwise, auc);
    }

    /// <summary>Whether a step carries the value at all: Q is never null, so it counts where a search set it (best-first leaves it 0).</summary>
    private static bool Has(NodeValueKind kind, TreeNode node) =>
        kind == NodeValueKind.Q ? node.Q != 0 : NodeValues.Of(kind)(node) is { } v && double.IsFinite(v);

    private static PairPrecision Pairs(string source, NodeValueKind kind, double margin, bool isDefault, IReadOnlyList<GoldLabels> trees, StepPairOptions options)
    {
        int pairs = 0, invalidPrefix = 0, right = 0, wrong = 0, bothSound = 0, bothUnsound = 0;
        foreach (var gold in trees)
            foreach (var pair in TreeViews.StepPairs(gold.Tree, options))
            {
                pairs++;
                if (!gold.PathSound(gold.Tree.Nodes[pair.ParentId])) { invalidPrefix++; continue; }
                bool chosen = Sound(gold, pair.Chosen), rejected = Sound(gold, pair.Rejected);
                if (chosen && !rejected) right++;
                else if (!chosen && rejected) wrong++;
                else if (chosen) bothSound++;
                else bothUnsound++;
            }
        return new PairPrecision(source, kind, margin, isDefault, pairs, invalidPrefix, right, wrong, bothSound, bothUnsound);
    }

    private static bool Sound(GoldLabels gold, ScoredStep side) => gold.Sound(gold.Tree.Nodes[side.NodeId], gold.Tree.Nodes[side.LastNodeId]);

    private static StepwiseAgreement Stepwise(NodeValueKind kind, bool isDefault, IReadOnlyList<GoldLabels> trees)
    {
        var options = new TrlStepwiseOptions { StepValue = NodeValues.Of(kind), Threshold = 0 };
        int tp = 0, fp = 0, fn = 0, tn = 0;
        foreach (var gold in trees)
            foreach (var path in TreeViews.Paths(gold.Tree, new PathOptions()))
            {
                var labels = TrlStepwiseExport.StepLabels(path, options);
                for (int i = 0; i < labels.Count; i++)
                {
                    bool good = gold.PathSound(path.Steps[i]);
                    if (labels[i] && good) tp++;
                    else if (labels[i]) fp++;
                    else if (good) fn++;
                    else tn++;
                }
            }
        return new StepwiseAgreement(kind, options.Threshold, isDefault, tp, fp, fn, tn);
    }
}
