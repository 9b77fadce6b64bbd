using Reasoner.Core.Datasets;
using Reasoner.Core.Tasks;
using Reasoner.Tests.Cli;
using static Reasoner.Tests.Pipeline.PipelineKit;

namespace Reasoner.Tests.Pipeline;

public sealed class ServeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("reasoner-serve-cmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ServeTakesItsSourcesFromTheServeSettingsAndCanExitWhenDone()
    {
        var file = Path.Combine(_dir, "problems.jsonl");
        var problems = BuiltinTasks.TestSet(BuiltinTasks.Logic).Take(5).ToList();
        ProblemJsonl.Save(file, problems);
        var config = new Dictionary<string, string?>
        {
            ["RunsDir"] = _dir,
            ["Store:Fsync"] = "false",
            ["Generate:Model"] = "reference:0",
            ["Serve:Sources:0"] = $"file:{file}",
            ["Serve:Sources:1"] = "logic:test",
            ["Serve:Port"] = "0",
            ["Serve:ExitWhenDone"] = "true",
        };

        var r = await CliRunner.Run(config, "serve", "--out", "from-settings", "--shard", "0/20");

        Assert.Equal(0, r.ExitCode);
        var (trees, damage) = ReadStore(Path.Combine(_dir, "from-settings"));
        Assert.Empty(damage);
        var expected = BuiltinTasks.TestSet(BuiltinTasks.Logic).Select(p => p.Id).Where(id => Reasoner.Generation.Shard.Parse("0/20").Contains(id));
        Assert.Equal(expected.Order(), trees.Select(t => t.Problem.Id).Order());
        Assert.All(trees, t => Assert.True(t.HasCorrectPath));
    }

    [Fact]
    public async Task AnUnknownSourceIsBadInput()
    {
        var r = await CliRunner.Run(new Dictionary<string, string?> { ["RunsDir"] = _dir }, "serve", "--model", "reference", "--source", "nowhere:x", "--port", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: unknown problem source 'nowhere:x'", r.Err);
    }
}
