using Reasoner.Core.Trees;
using Reasoner.Tests.Cli;
using static Reasoner.Tests.Pipeline.PipelineKit;

namespace Reasoner.Tests.Builtin;

/// <summary>The commands a new user runs first, with no model named: they run on the committed built-in model.</summary>
public sealed class BuiltinEndToEndTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("reasoner-builtin-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    [Fact]
    public async Task GenerateWithoutAModelSearchesWithTheBuiltinModelAndShowAndExportReadTheRun()
    {
        // Only the size of the run is set; algorithm, model, task and prompt are generate's defaults.
        var config = new Dictionary<string, string?>
        {
            ["RunsDir"] = _runs, ["Store:Fsync"] = "false", ["Generate:Problems"] = "2", ["Generate:Search:Iterations"] = "1",
        };
        var r = await CliRunner.Run(config, "generate");
        Assert.True(r.ExitCode == 0, r.Err + r.Out);

        var (trees, damage) = ReadStore(Path.Combine(_runs, "mcts-arith"));
        Assert.Empty(damage);
        Assert.Equal(2, trees.Count);
        Assert.All(trees, t =>
        {
            Assert.Equal(TreeStatus.Completed, t.Status);
            Assert.Equal("mcts", t.Search.Algorithm);
            Assert.Equal("bare", t.Search.Settings["world.solvePrompt"]);
            Assert.EndsWith("builtin", t.ModelId);
            Assert.Contains(t.Nodes, n => n.IsTerminal);
        });

        var show = await CliRunner.Run(config, "show", "mcts-arith", "--index", "0");
        Assert.True(show.ExitCode == 0, show.Err);
        var export = await CliRunner.Run(config, "export", "mcts-arith", "--format", "trees", "--out", "-");
        Assert.True(export.ExitCode == 0, export.Err);
        // Standard output carries the JSONL alone (the summary goes to stderr): one tree per line.
        var lines = export.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, line => Assert.Equal(System.Text.Json.JsonValueKind.Object, System.Text.Json.JsonDocument.Parse(line).RootElement.ValueKind));
        Assert.Contains("2 lines from 2 of 2 trees", export.Err);
    }

    [Fact]
    public async Task EvalWithoutAModelEvaluatesTheBuiltinModel()
    {
        var r = await CliRunner.Run(new Dictionary<string, string?> { ["RunsDir"] = _runs }, "eval", "--task", "logic", "--problems", "4", "--k", "2");
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        Assert.Contains("builtin", r.Out);
        Assert.Contains("pass@2", r.Out);
        // The report goes to the runs folder, with every problem's outcome.
        var report = Reasoner.Training.Evaluation.EvalReport.Load(Path.Combine(_runs, "eval", "builtin-logic-d2-n4.json"));
        Assert.Equal(4, report.Problems.Count);
        Assert.Equal(2, report.Run.K);
    }

    [Fact]
    public async Task EvalGivesTheSameReportWhateverNumberOfProblemsRunAtOnce()
    {
        var config = new Dictionary<string, string?> { ["RunsDir"] = _runs };
        var reports = new List<Reasoner.Training.Evaluation.EvalReport>();
        foreach (var concurrency in new[] { 1, 5 })
        {
            var path = Path.Combine(_runs, $"c{concurrency}.json");
            var r = await CliRunner.Run(config, "eval", "--task", "arith", "--problems", "10", "--k", "3", "--concurrency", $"{concurrency}", "--out", path);
            Assert.True(r.ExitCode == 0, r.Err + r.Out);
            reports.Add(Reasoner.Training.Evaluation.EvalReport.Load(path));
        }
        // Each problem keeps its seed and its place in the report; the samples of problems run together are still their own.
        Assert.Equal((1, 5), (reports[0].Run.Concurrency, reports[1].Run.Concurrency));
        Assert.Equal(reports[0].Problems.Select(p => (p.ProblemId, p.GreedyText, string.Join("|", p.SampleAnswers))),
            reports[1].Problems.Select(p => (p.ProblemId, p.GreedyText, string.Join("|", p.SampleAnswers))));
        Assert.Equal(2, (await CliRunner.Run(config, "eval", "--task", "arith", "--concurrency", "0")).ExitCode);
    }
}
