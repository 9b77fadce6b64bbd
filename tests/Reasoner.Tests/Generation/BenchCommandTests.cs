using Reasoner.Tests.Cli;

namespace Reasoner.Tests.Generation;

public class BenchCommandTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    [Fact]
    public async Task GeneratePrintsEveryComparisonWithItsSpeedUp()
    {
        var r = await CliRunner.Run("bench", "generate", "--model", checkpoint.Path, "--prompt-tokens", "12", "--new-tokens", "3", "--k", "2", "--repeat", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        foreach (var expected in new[] { "full recompute (no KV cache)", "KV cache", "one by one (2 requests)", "batched, prefix forked (N=2)", "tokens/s", "×" })
            Assert.Contains(expected, r.Out);
    }

    [Theory]
    [InlineData("--model", "no/such/folder")]
    [InlineData("--random", "--model", "x")]
    [InlineData("--random", "--k", "0")]
    public async Task BadInputIsExitCode2(params string[] options)
    {
        var r = await CliRunner.Run(["bench", "generate", .. options]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Err);
    }
}
