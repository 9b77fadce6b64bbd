using System.Text.Json;
using Reasoner.Core.Storage;

namespace Reasoner.Tests.Cli;

public sealed class CommandTests : IDisposable
{
    readonly string _runs = Directory.CreateTempSubdirectory("reasoner-cli-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    Dictionary<string, string?> Config => new() { ["RunsDir"] = _runs };

    string StoreSampleRun(string name)
    {
        var runDir = Path.Combine(_runs, name);
        using var store = TreeStore.Open(runDir);
        store.Append(SampleTrees.Arithmetic());
        store.Append(SampleTrees.Random(7, "p-random", nodes: 9));
        return runDir;
    }

    [Fact]
    public async Task TasksListsEveryFamily()
    {
        var r = await CliRunner.Run("tasks");
        Assert.Equal(0, r.ExitCode);
        foreach (var family in new[] { "arith", "logic", "gsm8k", "math", "arc", "csqa", "strategyqa" }) Assert.Contains(family, r.Out);
    }

    [Theory]
    [InlineData("arith", "1000/1000")]
    [InlineData("logic", "1000/1000")]
    [InlineData("gsm8k", "300/300")]
    [InlineData("math", "400/400")]
    public async Task TasksChecksEveryReferenceSolution(string task, string expected)
    {
        var r = await CliRunner.Run("tasks", task, "--count", "1");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"judged correct by the answer checker: {expected}", r.Out);
    }

    [Fact]
    public async Task MalformedDataFileIsOneLineNamingFileLineAndField()
    {
        var file = Path.Combine(_runs, "bad.jsonl");
        File.WriteAllLines(file, ["{\"question\": \"q1\", \"answer\": \"1\\n#### 1\"}", "{\"question\": \"q2\"}"]);
        var r = await CliRunner.Run("tasks", "gsm8k", "--data", file);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"error: {file}:2: field 'answer'", r.Err.Trim()[..($"error: {file}:2: field 'answer'".Length)]);
        Assert.Single(r.Err.Trim().Split('\n'));

        var skipped = await CliRunner.Run("tasks", "gsm8k", "--data", file, "--skip-invalid");
        Assert.Equal(0, skipped.ExitCode);
        Assert.Contains("1 problems, 1 malformed lines skipped", skipped.Out);
    }

    [Theory]
    [InlineData("The answer is $1,000.", "1000", "number", 0)]
    [InlineData("so x = 3\n#### 4", "3", "number", 1)]
    [InlineData("\\boxed{\\frac{\\sqrt{3}}{3}}", "\\frac{1}{\\sqrt{3}}", "math", 0)]
    [InlineData("I pick (C).", "C", "choice", 0)]
    [InlineData("No.", "yes", "yes-no", 1)]
    public async Task CheckJudgesAndSetsTheExitCode(string text, string reference, string kind, int exit)
    {
        var r = await CliRunner.Run("check", text, "--reference", reference, "--kind", kind);
        Assert.Equal(exit, r.ExitCode);
        Assert.Contains(exit == 0 ? "verdict:   correct" : "verdict:   incorrect", r.Out);
    }

    [Theory]
    [InlineData("check", "x", "--kind", "number")]                 // missing required --reference
    [InlineData("check", "x", "-r", "1", "--kind", "fraction")]    // bad enum value
    [InlineData("tasks", "no-such-task")]
    [InlineData("show", "no-such-run")]
    [InlineData("export", "no-such-run")]
    [InlineData("--no-such-option")]
    [InlineData("generate", "--replicas", "0", "--problems", "1")]
    [InlineData("bench", "search", "--replicas", "0", "-n", "1")]
    public async Task BadInputIsAnErrorLineWithoutStackTrace(params string[] args)
    {
        var r = await CliRunner.Run(Config, args);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public async Task ShowPrintsTheTableAndOneTree()
    {
        StoreSampleRun("demo");
        var table = await CliRunner.Run(Config, "show", "demo");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("2 trees", table.Out);
        Assert.Contains("p-random", table.Out);

        var tree = await CliRunner.Run(Config, "show", "demo", "--index", "0");
        Assert.Equal(0, tree.ExitCode);
        var arithmetic = SampleTrees.Arithmetic();
        Assert.Contains(arithmetic.Problem.Question, tree.Out);
        foreach (var node in arithmetic.Nodes.Skip(1)) Assert.Contains(node.Text, tree.Out);
    }

    [Theory]
    [InlineData("trl-pairs", new[] { "prompt", "chosen", "rejected" })]
    [InlineData("trl-stepwise", new[] { "prompt", "completions", "labels" })]
    [InlineData("tpo", new[] { "prompt", "response_list" })]
    public async Task ExportWritesJsonlWithExactlyTheFormatsFields(string format, string[] fields)
    {
        var runDir = StoreSampleRun("demo");
        // The sample run holds an mcts and a best-first tree, which rank steps by different values: --value picks one.
        var r = await CliRunner.Run(Config, "export", "demo", "--format", format, "--min-margin", "0.1", "--value", "monte-carlo-value");
        Assert.Equal(0, r.ExitCode);
        var file = Path.Combine(runDir, "export", $"{format}.jsonl");
        var lines = File.ReadAllLines(file);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(fields.Order(), doc.RootElement.EnumerateObject().Select(p => p.Name).Order());
        }
        Assert.Contains($"{lines.Length} lines", r.Out);
    }

    [Fact]
    public async Task PairsRankStepsByTheValueTheRunsSearchUsedAndAMixedRunMustChoose()
    {
        StoreSampleRun("demo");
        var mixed = await CliRunner.Run(Config, "export", "demo");
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("choose one with --value", mixed.Err);

        // A run of MCTS trees alone: pairs by Q, as MCTS-DPO builds them.
        var mctsOnly = Path.Combine(_runs, "mcts-only");
        using (var store = TreeStore.Open(mctsOnly)) store.Append(SampleTrees.Arithmetic());
        var byDefault = await CliRunner.Run(Config, "export", mctsOnly, "--out", "-", "--min-margin", "0.1");
        var byQ = await CliRunner.Run(Config, "export", mctsOnly, "--out", "-", "--min-margin", "0.1", "--value", "q");
        Assert.Equal(0, byDefault.ExitCode);
        Assert.NotEmpty(byDefault.Out);
        Assert.Equal(byQ.Out, byDefault.Out);
        var byMonteCarlo = await CliRunner.Run(Config, "export", mctsOnly, "--out", "-", "--min-margin", "0.1", "--value", "monte-carlo-value");
        Assert.NotEqual(byMonteCarlo.Out, byDefault.Out);
    }

    [Fact]
    public async Task ExportOfTreesRoundTripsEveryNode()
    {
        var runDir = StoreSampleRun("demo");
        var file = Path.Combine(_runs, "trees.jsonl");
        var r = await CliRunner.Run(Config, "export", runDir, "--format", "trees", "--out", file);
        Assert.Equal(0, r.ExitCode);
        var lines = File.ReadAllLines(file);
        Assert.Equal(2, lines.Length);
        using var doc = JsonDocument.Parse(lines[0]);
        Assert.Equal(SampleTrees.Arithmetic().Nodes.Count, doc.RootElement.GetProperty("nodes").GetArrayLength());
    }
}
