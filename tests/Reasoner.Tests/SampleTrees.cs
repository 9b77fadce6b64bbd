using Reasoner.Core.Problems;
using Reasoner.Core.Trees;

namespace Reasoner.Tests;

/// <summary>Hand-built and seeded random trees shared by the tree, storage and export tests.</summary>
internal static class SampleTrees
{
    public static PreferenceTree Empty(string problemId = "p1", TreeStatus status = TreeStatus.Completed) => new()
    {
        Problem = new Problem(problemId, "arith", "What is 2x if x = 2?", "4", AnswerKind.Number),
        ModelId = "tiny-llama",
        Search = new SearchSettings("mcts", new Dictionary<string, string> { ["iterations"] = "16" }),
        Seed = 7,
        Status = status,
        Error = status == TreeStatus.Failed ? "policy timed out" : null,
    };

    /// <summary>
    /// <code>
    /// root (0)
    /// ├─ a  (1) MC .9    Q  .8  N10 ─┬─ a1 (5) MC 1   Q .9  N6 ── a1t (10) correct "4"
    /// │                              └─ a2 (6) MC .25 Q -.5 N3 ── a2t (11) wrong "5"
    /// ├─ b  (2) MC .5    Q  .1  N5  ─┬─ b1 (7) MC .5  Q .2  N3 ── b1t (12) wrong "6"
    /// │                              └─ b2 (8) MC .25 Q -.2 N1    terminal, truncated at the depth limit
    /// ├─ c  (3) MC .125  Q -.6  N2  ─── c1 (9) terminal, no answer parsed
    /// └─ d  (4) MC none  Q  0   N0      never expanded
    /// </code>
    /// </summary>
    public static PreferenceTree Arithmetic()
    {
        var tree = Empty();
        var root = tree.Root;
        root.Visits = 20;
        var a = Step(tree, root, "Let x = 2.", mc: 0.9, q: 0.8, visits: 10);
        var b = Step(tree, root, "Let x = 3.", mc: 0.5, q: 0.1, visits: 5);
        var c = Step(tree, root, "I am unsure.", mc: 0.125, q: -0.6, visits: 2);
        Step(tree, root, "Let y = 1.", mc: null, q: 0, visits: 0);
        var a1 = Step(tree, a, "So 2x = 4.", mc: 1, q: 0.9, visits: 6);
        var a2 = Step(tree, a, "So 2x = 5.", mc: 0.25, q: -0.5, visits: 3);
        var b1 = Step(tree, b, "So 2x = 6.", mc: 0.5, q: 0.2, visits: 3);
        var b2 = Step(tree, b, "So 2x = 7 and", mc: 0.25, q: -0.2, visits: 1);
        b2.IsTerminal = true;
        b2.Truncated = true;
        var c1 = Step(tree, c, "Maybe it is four-ish?", mc: null, q: -1, visits: 1);
        Terminal(c1, answer: null, correct: null, outcome: 0);
        Terminal(Step(tree, a1, "The answer is 4.", mc: 1, q: 1, visits: 4), "4", correct: true, outcome: 1);
        Terminal(Step(tree, a2, "The answer is 5.", mc: 0, q: -1, visits: 2), "5", correct: false, outcome: 0);
        Terminal(Step(tree, b1, "The answer is 6.", mc: 0, q: -1, visits: 2), "6", correct: false, outcome: 0);
        return tree;
    }

    public static TreeNode Step(PreferenceTree tree, TreeNode parent, string text, double? mc, double q, int visits)
    {
        var node = tree.AddChild(parent, text, tokenCount: text.Length / 3, logProb: -0.1 * text.Length);
        node.MonteCarloValue = mc;
        node.Q = q;
        node.Visits = visits;
        return node;
    }

    public static void Terminal(TreeNode node, string? answer, bool? correct, double outcome)
    {
        node.IsTerminal = true;
        node.Answer = answer;
        node.IsCorrect = correct;
        node.Outcome = outcome;
    }

    /// <summary>A small tree with every field set, from a seed; texts include non-ASCII.</summary>
    public static PreferenceTree Random(int seed, string? problemId = null, int nodes = 6)
    {
        var random = new Random(seed);
        var tree = new PreferenceTree
        {
            Problem = new Problem(problemId ?? $"p{seed}", "csqa", $"Question {seed}: which one — α or β?", "B", AnswerKind.Choice)
            {
                Choices = [new AnswerChoice("A", "α"), new AnswerChoice("B", "β")],
                ReferenceSteps = ["β is right.", "The answer is B."],
            },
            ModelId = $"model-{seed % 3}",
            Search = new SearchSettings("best-first", new Dictionary<string, string>
            {
                ["k"] = "4",
                ["temperature"] = (0.5 + seed % 5 / 10.0).ToString(System.Globalization.CultureInfo.InvariantCulture),
            }),
            Seed = seed * 7919L,
            Timings = new SearchTimings(new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddMilliseconds(seed), 1234.5 + seed)
            {
                PhaseMs = new Dictionary<string, double> { ["expand"] = 1000.25, ["score"] = 234.25 },
            },
            Status = seed % 4 == 0 ? TreeStatus.Failed : TreeStatus.Completed,
            Error = seed % 4 == 0 ? "out of memory" : null,
        };
        for (var i = 1; i < nodes; i++)
        {
            var parent = tree.Nodes[random.Next(tree.Nodes.Count)];
            var node = tree.AddChild(parent, $"step {i} «{random.Next(1000)}» ∑", random.Next(1, 40), -random.NextDouble() * 10, random.NextDouble());
            node.Visits = random.Next(20);
            node.ValueSum = random.NextDouble() * node.Visits;
            node.Q = random.NextDouble() * 2 - 1;
            node.SelfEval = random.Next(3) == 0 ? null : random.NextDouble();
            node.MonteCarloValue = random.Next(8) / 8.0;
            node.StepValue = random.NextDouble();
            node.VerifierScore = random.Next(2) == 0 ? null : random.NextDouble();
            node.DuplicateCount = random.Next(3);
            if (random.Next(2) == 0)
            {
                node.IsTerminal = true;
                node.Truncated = random.Next(4) == 0;
                node.Answer = random.Next(3) == 0 ? null : "B";
                node.IsCorrect = node.Answer is null ? null : random.Next(2) == 0;
                node.Outcome = node.IsCorrect == true ? 1 : 0;
            }
        }
        return tree;
    }
}
