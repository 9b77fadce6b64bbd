using Reasoner.Cli;
using Reasoner.Core.Prompts;
using Reasoner.Models.Checkpoints;
using Reasoner.Core.Trees;
using Reasoner.Tests.Cli;
using static Reasoner.Tests.Pipeline.PipelineKit;

namespace Reasoner.Tests.Pipeline;

public sealed class GenerateCommandTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("reasoner-generate-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    private Dictionary<string, string?> Config => new() { ["RunsDir"] = _runs, ["Store:Fsync"] = "false" };

    [Fact]
    public async Task GenerateWritesARunThatShowAndExportReadAndTheSameCommandResumes()
    {
        string[] command = ["generate", "--model", "reference", "--problems", "6", "--workers", "2", "--iterations", "2"];
        var first = await CliRunner.Run(Config, command);
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("problems searched", first.Out);
        var runDir = Path.Combine(_runs, "mcts-arith");
        var (trees, damage) = ReadStore(runDir);
        Assert.Empty(damage);
        Assert.Equal(6, trees.Select(t => t.Problem.Id).Distinct().Count());
        Assert.All(trees, t => Assert.Equal("reference:0.3", t.ModelId));
        Assert.All(trees, t => Assert.Equal("2", t.Search.Settings["iterations"]));

        var show = await CliRunner.Run(Config, "show", "mcts-arith");
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("6 trees", show.Out);
        var export = await CliRunner.Run(Config, "export", "mcts-arith", "--format", "trl-stepwise");
        Assert.Equal(0, export.ExitCode);

        var again = await CliRunner.Run(Config, [.. command[..4], "8", .. command[5..]]);
        Assert.Equal(0, again.ExitCode);
        Assert.Matches(@"skipped \(already stored\)\s*│\s*6\s", again.Out);
        Assert.Matches(@"problems searched\s*│\s*2\s", again.Out);
        Assert.Equal(8, ReadStore(runDir).Trees.Count);
    }

    [Fact]
    public async Task WithoutOptionsGenerateRunsTheGenerateSettings()
    {
        var config = Config;
        config["Generate:Model"] = "reference";
        config["Generate:Problems"] = "3";
        config["Generate:Search:Iterations"] = "1";

        var r = await CliRunner.Run(config, "generate");

        Assert.Equal(0, r.ExitCode);
        var trees = ReadStore(Path.Combine(_runs, "mcts-arith")).Trees;
        Assert.Equal(3, trees.Count);
        Assert.All(trees, t => Assert.Equal("1", t.Search.Settings["iterations"]));
    }

    [Fact]
    public async Task OptionsPickTheAlgorithmTheShardAndTheRunFolder()
    {
        var r = await CliRunner.Run(Config, "generate", "--model", "reference:0", "--algo", "beam", "--beam-width", "2", "--task", "logic",
            "--split", "test", "--problems", "10", "--shard", "1/2", "--out", "beam-logic");
        Assert.Equal(0, r.ExitCode);
        var trees = ReadStore(Path.Combine(_runs, "beam-logic")).Trees;
        Assert.InRange(trees.Count, 1, 9);
        Assert.All(trees, t => Assert.Equal("beam", t.Search.Algorithm));
        Assert.All(trees, t => Assert.Equal("2", t.Search.Settings["beamWidth"]));
        Assert.All(trees, t => Assert.True(t.HasCorrectPath));
        Assert.All(Directory.GetFiles(Path.Combine(_runs, "beam-logic", "trees")), f => Assert.Contains("shard-1-of-2", f));
    }

    [Fact]
    public async Task AModelFolderRunsOnTheInProcessEngineSharedByTheWorkers()
    {
        using var checkpoint = new Generation.TinyCheckpoint();
        // A model trained from scratch on the tasks names the bare prompt and its oversampling in its reasoner.json;
        // search then opens with that prompt and samples that many times k steps.
        new ModelPromptSettings { Prompt = PromptLibrary.SolveBare, Oversampling = 3 }.Save(checkpoint.Path);
        var r = await CliRunner.Run(Config, "generate", "--model", checkpoint.Path, "--problems", "3", "--workers", "2",
            "--iterations", "1", "--max-step-tokens", "6", "--depth-limit", "2", "--out", "engine");

        Assert.Equal(0, r.ExitCode);
        var (trees, damage) = ReadStore(Path.Combine(_runs, "engine"));
        Assert.Empty(damage);
        Assert.Equal(3, trees.Count);
        Assert.All(trees, t => Assert.Equal(TreeStatus.Completed, t.Status));
        Assert.All(trees, t => Assert.Equal(Path.TrimEndingDirectorySeparator(checkpoint.Path), t.ModelId));
        Assert.All(trees, t => Assert.True(t.Nodes.Count > 1));
        Assert.All(trees, t => Assert.Equal("bare", t.Search.Settings["world.solvePrompt"]));
        Assert.All(trees, t => Assert.Equal("3", t.Search.Settings["proposal.oversampling"]));

        // An option still wins over the model's own default.
        var again = await CliRunner.Run(Config, "generate", "--model", checkpoint.Path, "--problems", "1", "--iterations", "1",
            "--max-step-tokens", "6", "--depth-limit", "2", "--oversampling", "1", "--out", "engine-1");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal("1", Assert.Single(ReadStore(Path.Combine(_runs, "engine-1")).Trees).Search.Settings["proposal.oversampling"]);
    }

    [Fact]
    public async Task Bf16WeightsSearchOnTheInProcessEngine()
    {
        using var checkpoint = new Generation.TinyCheckpoint();
        var r = await CliRunner.Run(Config, "generate", "--model", checkpoint.Path, "--dtype", "bf16", "--problems", "2", "--workers", "2",
            "--iterations", "1", "--max-step-tokens", "6", "--depth-limit", "2", "--out", "engine-bf16");

        Assert.Equal(0, r.ExitCode);
        var (trees, damage) = ReadStore(Path.Combine(_runs, "engine-bf16"));
        Assert.Empty(damage);
        Assert.Equal(2, trees.Count);
        Assert.All(trees, t => Assert.True(t.Nodes.Count > 1));
        // The tree keeps the folder as its model id: training finds the policy by it.
        Assert.All(trees, t => Assert.Equal(Path.TrimEndingDirectorySeparator(checkpoint.Path), t.ModelId));
    }

    [Theory]
    [InlineData("--dtype", "fp16")]
    [InlineData("--shard", "2/2")]
    [InlineData("--model", "no-such-backend")]
    [InlineData("--algo", "beam", "--iterations", "3")]
    [InlineData("--data", "/no/such/file.jsonl")]
    [InlineData("--problems", "0")]
    public async Task BadInputIsOneErrorLineAndExitCode2(params string[] options)
    {
        var r = await CliRunner.Run(Config, ["generate", "--model", "reference", .. options]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task CancellingStopsGracefullyWithExitCode130AndKeepsTheStoredTrees()
    {
        var runDir = Path.Combine(_runs, "mcts-arith");
        using var cancel = new CancellationTokenSource();
        var stdout = new StringWriter();
        var running = ReasonerApp.RunAsync(["generate", "--model", "reference:0.3:5", "--problems", "200"], stdout, new StringWriter(), Config, cancel.Token);
        await WaitUntil(() => ReadStore(runDir).Trees.Count >= 2, "two trees are stored");
        cancel.Cancel();

        Assert.Equal(130, await running);
        var (trees, damage) = ReadStore(runDir);
        Assert.Empty(damage);
        Assert.InRange(trees.Count, 2, 199);
        Assert.All(trees, t => Assert.Equal(TreeStatus.Completed, t.Status));
        Assert.Equal(trees.Count, trees.Select(t => t.Problem.Id).Distinct().Count());
    }
}
