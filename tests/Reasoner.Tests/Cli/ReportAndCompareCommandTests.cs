using System.Text.Json.Nodes;
using Reasoner.Training.Evaluation;

namespace Reasoner.Tests.Cli;

/// <summary><c>report data</c>, <c>export --value gold</c> and <c>eval --compare</c> through the command line.</summary>
public sealed class ReportAndCompareCommandTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("reasoner-report-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    private Dictionary<string, string?> Config => new() { ["RunsDir"] = _runs, ["Store:Fsync"] = "false" };

    static void WriteIterateRun(string folder, string trainer, params double?[] greedy)
    {
        var state = new Reasoner.Cli.Iteration.IterationState
        {
            Settings = new Reasoner.Cli.Iteration.IterationSettings { Trainer = trainer, Task = "arith", Model = "/m", Algorithm = "mcts" },
            Rounds = [.. greedy.Select((g, r) => new Reasoner.Cli.Iteration.RoundState
            {
                Round = r, Policy = "/m", Eval = Path.Combine(folder, $"round-{r}", "eval.json"),
                Stage = g is null ? Reasoner.Cli.Iteration.RoundStage.Train : Reasoner.Cli.Iteration.RoundStage.Done,
                Greedy = g, GreedyLow = g - 0.03, GreedyHigh = g + 0.03,
            })],
        };
        state.Save(folder);
    }

    [Fact]
    public async Task ReportRoundsTabulatesAndPlotsAccuracyByRound()
    {
        WriteIterateRun(Path.Combine(_runs, "iterate-dpo"), "dpo", 0.36, 0.41, 0.44);
        WriteIterateRun(Path.Combine(_runs, "iterate-tpo"), "tpo", 0.36, 0.38, null); // round 2 still training
        var png = Path.Combine(_runs, "rounds.png");
        var r = await CliRunner.Run(Config, "report", "rounds", "iterate-dpo", Path.Combine(_runs, "iterate-tpo"), "--plot", png);
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        Assert.Contains("44.0 % [41.0, 47.0]", r.Out);
        Assert.Contains("38.0 %", r.Out);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);

        Directory.CreateDirectory(Path.Combine(_runs, "not-iterate"));
        var bad = await CliRunner.Run(Config, "report", "rounds", "not-iterate");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("iterate.json", bad.Err);
    }

    [Fact]
    public async Task ReportDataGradesAReferencePolicyRunAndWritesJson()
    {
        // The reference policy replays reference steps and writes a wrong step 40 % of the time: gold must tell them apart.
        var generate = await CliRunner.Run(Config, "generate", "--model", "reference:0.4", "--problems", "8", "--iterations", "3");
        Assert.Equal(0, generate.ExitCode);

        var r = await CliRunner.Run(Config, "report", "data", "mcts-arith");

        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        Assert.Contains("pair precision", r.Out);
        Assert.Contains("AUC against gold validity", r.Out);
        Assert.Contains("AUC [95 % CI]", r.Out);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_runs, "mcts-arith", "report", "data-quality.json")))!;
        var family = json["report"]!["families"]![0]!;
        Assert.Equal("arith", (string)family["family"]!);
        Assert.True((int)family["labels"]!["valid"]! > 0 && (int)family["labels"]!["invalid"]! > 0, family["labels"]!.ToJsonString());
        Assert.Equal("q", (string)json["report"]!["rankingValue"]!);
        // Past a mistake the reference policy replays the reference but answers wrong: every right answer is a sound one.
        Assert.Equal((int)family["treesWithCorrectPath"]!, (int)family["treesWithSoundCorrectPath"]!);
        Assert.Equal(0, (int)family["outcomes"]!["throughInvalidStep"]!);
        // Node by node: on a prefix that follows the reference, the reference's own step is sound and a mistake is not.
        var (trees, _) = Pipeline.PipelineKit.ReadStore(Path.Combine(_runs, "mcts-arith"));
        int checkedSteps = 0;
        foreach (var tree in trees)
        {
            var gold = Reasoner.Core.Judging.GoldLabels.Of(tree);
            foreach (var node in tree.Nodes.Skip(1).Where(n => gold.PathSound(tree.Nodes[n.ParentId])))
            {
                Assert.Equal(node.Text == tree.Problem.ReferenceSteps![node.Depth - 1], gold.Judgement(node)!.IsSound);
                checkedSteps++;
            }
        }
        Assert.True(checkedSteps > 20, $"{checkedSteps} steps");

        var toStdout = await CliRunner.Run(Config, "report", "data", "mcts-arith", "--json", "-");
        Assert.Equal(0, toStdout.ExitCode);
        Assert.Equal("arith", (string)JsonNode.Parse(toStdout.Out)!["report"]!["families"]![0]!["family"]!);
        Assert.Contains("pair precision", toStdout.Err);

        var oracle = await CliRunner.Run(Config, "export", "mcts-arith", "--value", "gold");
        Assert.Equal(0, oracle.ExitCode);
        var lines = File.ReadAllLines(Path.Combine(_runs, "mcts-arith", "export", "trl-pairs.gold-oracle.jsonl"));
        Assert.NotEmpty(lines);
        Assert.Contains("oracle", oracle.Err);
    }

    [Fact]
    public async Task TreesWithoutGoldLabelsAreRefusedClearly()
    {
        var generate = await CliRunner.Run(Config, "generate", "--task", "gsm8k", "--model", "reference", "--problems", "2", "--iterations", "1");
        Assert.Equal(0, generate.ExitCode);

        var report = await CliRunner.Run(Config, "report", "data", "mcts-gsm8k");
        Assert.Equal(2, report.ExitCode);
        Assert.Contains("gold step labels exist for the built-in tasks", report.Err);

        var export = await CliRunner.Run(Config, "export", "mcts-gsm8k", "--value", "gold");
        Assert.Equal(2, export.ExitCode);
        Assert.Contains("gsm8k", export.Err);
        Assert.False(Directory.Exists(Path.Combine(_runs, "mcts-gsm8k", "export")) && Directory.GetFiles(Path.Combine(_runs, "mcts-gsm8k", "export")).Length > 0);

        Assert.Equal(2, (await CliRunner.Run(Config, "report", "data", "no-such-run")).ExitCode);
    }

    [Fact]
    public async Task CompareTwoSavedReports()
    {
        static ProblemOutcome Outcome(int i, bool right) => new($"p{i}", "t", right ? "1" : "0", right, null, ["1", "0"], right ? 1 : 0, right ? 1 : 0, "1", right);
        var run = new EvalRun("arith", 2, null, "/models/x", "solve-bare", 2, 2, 1, 1, 64, 1);
        var a = Path.Combine(_runs, "a.json");
        var b = Path.Combine(_runs, "b.json");
        File.WriteAllText(a, EvalReport.Create(run, [.. Enumerable.Range(0, 100).Select(i => Outcome(i, i < 30))]).ToJson());
        File.WriteAllText(b, EvalReport.Create(run with { Model = "/models/y" }, [.. Enumerable.Range(0, 100).Select(i => Outcome(i, i < 50))]).ToJson());

        var r = await CliRunner.Run(Config, "eval", "--compare", a, b, "--out", Path.Combine(_runs, "cmp.json"));

        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        Assert.Contains("McNemar", r.Out);
        Assert.Contains("+20.0 pts", r.Out);
        // 20 discordant problems, all for B: p = 2 / 2^20.
        var greedy = JsonNode.Parse(File.ReadAllText(Path.Combine(_runs, "cmp.json")))!["comparison"]!["metrics"]![0]!;
        Assert.Equal(2 / Math.Pow(2, 20), (double)greedy["mcNemarP"]!, 12);

        var missing = await CliRunner.Run(Config, "eval", "--compare", a, Path.Combine(_runs, "nothing"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("neither a saved eval report nor a model folder", missing.Err);
        File.WriteAllText(b, "not json");
        var broken = await CliRunner.Run(Config, "eval", "--compare", a, b);
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("not an eval report", broken.Err);
    }
}
