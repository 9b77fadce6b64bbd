namespace Reasoner.Tests.Cli;

/// <summary>show and export on a run whose segment was damaged on disk: they name the damage, skip it, and go on.</summary>
public sealed class DamagedRunCommandTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("reasoner-damaged-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    private Dictionary<string, string?> Config => new() { ["RunsDir"] = _runs, ["Store:Fsync"] = "false" };

    [Fact]
    public async Task ShowAndExportReportADamagedRecordAndCarryOnWithTheRest()
    {
        var generated = await CliRunner.Run(Config, "generate", "--model", "reference:0.3", "--problems", "6", "--iterations", "2", "--workers", "1");
        Assert.True(generated.ExitCode == 0, generated.Err);
        var segment = Assert.Single(Directory.GetFiles(Path.Combine(_runs, "mcts-arith", "trees"), "*.mpk", SearchOption.AllDirectories));
        // Flip bytes in the middle of the segment: the record there fails its checksum, the records around it do not.
        var bytes = File.ReadAllBytes(segment);
        for (int i = bytes.Length / 2; i < bytes.Length / 2 + 8; i++) bytes[i] ^= 0xFF;
        File.WriteAllBytes(segment, bytes);

        var show = await CliRunner.Run(Config, "show", "mcts-arith");
        var exportFile = Path.Combine(_runs, "trees.jsonl");
        var export = await CliRunner.Run(Config, "export", "mcts-arith", "--format", "trees", "--out", exportFile);

        Assert.True(show.ExitCode == 0, show.Err);
        Assert.Contains("skipped damaged record", show.Out + show.Err);
        Assert.Contains(Path.GetFileName(segment), show.Out + show.Err);
        Assert.True(export.ExitCode == 0, export.Err);
        Assert.Contains("skipped damaged record", export.Out + export.Err);
        int exported = File.ReadAllLines(exportFile).Length;
        Assert.InRange(exported, 1, 5); // the damaged tree left out, every other one written
        // show lists the same trees as export wrote.
        Assert.Equal(exported, System.Text.RegularExpressions.Regex.Matches(show.Out, "arith-[0-9a-f]{16}").Select(m => m.Value).Distinct().Count());
    }
}
