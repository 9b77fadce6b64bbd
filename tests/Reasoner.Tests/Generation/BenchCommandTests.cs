using Reasoner.Tests.Cli;

namespace Reasoner.Tests.Generation;

public class BenchCommandTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    [Fact]
    public async Task GeneratePrintsEveryComparisonWithItsSpeedUp()
    {
        var r = await CliRunner.Run("bench", "generate", "--model", checkpoint.Path, "--prompt-tokens", "12", "--new-tokens", "3", "--k", "2", "--repeat", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        foreach (var expected in new[] { "full recompute (no KV cache)", "KV cache", "one by one (2 requests)", "batched, prefix forked (N=2)", "tokens/s", "×",
                     "llama.cpp tokens/s (prefill once, seq_cp)", "thread" })
            Assert.Contains(expected, r.Out);
    }

    [Fact]
    public async Task SearchTimesEachAlgorithmOnBothEnginePathsAndWorkerCountsAndReportsTheYield()
    {
        var plot = Path.Combine(Path.GetTempPath(), $"bench-search-{Guid.NewGuid():N}.png");
        var r = await CliRunner.Run("bench", "search", "--model", checkpoint.Path, "--problems", "2", "--algos", "best-first",
            "--iterations", "2", "--actions", "2", "--rollouts", "1", "--max-step-tokens", "4", "--depth-limit", "2", "--workers", "1,2", "--plot", plot);
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(plot)[..4]);
        File.Delete(plot);
        foreach (var expected in new[] { "one row per call, no prefix cache", "forking, one request at a time", "forking + batching across requests", "requests/forward",
            "trees/min", "nodes/s", "correct path in tree", "greedy accuracy", "target ≥ 2×", "loops", "prompt tokens reused" })
            Assert.Contains(expected, r.Out);
        // Five configurations of the one algorithm: fast paths off; forking one request at a time with 1 and 2 workers;
        // batching across requests with 1 and 2 workers; all search the same 2 problems.
        Assert.Equal(5, System.Text.RegularExpressions.Regex.Matches(r.Out, @"│\s+2\s+│\s+\d+\s+│").Count);
    }

    [Fact]
    public async Task SearchRefusesANegativeSmallForwardThreshold()
    {
        var r = await CliRunner.Run("bench", "search", "--model", checkpoint.Path, "--problems", "1", "--small-forward-tokens", "-1");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--small-forward-tokens must be at least 0", r.Err);
    }

    [Fact]
    public async Task StoreWritesAndReadsTypicalTreesEachWay()
    {
        var r = await CliRunner.Run("bench", "store", "--trees", "20");
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        foreach (var expected in new[] { "flush + fsync every tree", "through generate's pipeline", "no fsync", "one flush at the end", "read all", "trees/s",
                     "trees per flush", "target ≥ 10,000" })
            Assert.Contains(expected, r.Out);
        Assert.Equal(5, System.Text.RegularExpressions.Regex.Matches(r.Out, @"│\s+20\s+│").Count);
    }

    [Fact]
    public async Task TrainTimesPretrainingInBothPrecisionsAndEveryTrainer()
    {
        var r = await CliRunner.Run("bench", "train", "--model", checkpoint.Path, "--problems", "4", "--batch", "2", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        foreach (var expected in new[] { "fp32 matmul peak", "bf16", "pretraining, bf16 matmuls", "step-level DPO", "TPO", "TRPA", "ONPO", "Tree-PLV", "OREO", "vs pretraining" })
            Assert.Contains(expected, r.Out);
        Assert.Matches(@"pretraining, bf16 matmuls\s+│\s+\d+\s+│\s+[\d,]+\s+│\s+[\d.]+\s+│\s+\d+ % \(bf16\)", r.Out);
    }

    [Fact]
    public void ATreeThatDiffersFromTheBaselinesIsNamedByItsProblem()
    {
        var baseline = new Reasoner.Cli.Bench.SearchBenchResult(new("mcts", Reasoner.Cli.Bench.SearchBenchEngine.OneRowPerCall, 1), [SampleTrees.Random(1, "a"), SampleTrees.Random(2, "b"), SampleTrees.Random(3, "c")], TimeSpan.FromSeconds(1), null);
        var fast = baseline with { Case = new("mcts", Reasoner.Cli.Bench.SearchBenchEngine.OneRequestAtATime, 1), Trees = [SampleTrees.Random(1, "a"), SampleTrees.Random(9, "b"), SampleTrees.Random(3, "c")] };

        Assert.Equal(["b"], fast.ProblemsDifferingFrom(baseline));
        Assert.Equal(2, fast.SameTreesAs(baseline));
        Assert.Empty(baseline.ProblemsDifferingFrom(baseline));
    }

    [Theory]
    [InlineData("search", "--algos", "dfs")]
    [InlineData("search", "--problems", "0")]
    [InlineData("search", "--workers", "1,x")]
    [InlineData("search", "--workers", "0")]
    [InlineData("search", "--model", "no/such/folder")]
    public async Task BadSearchInputIsExitCode2(params string[] options)
    {
        var r = await CliRunner.Run(["bench", .. options]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Err);
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
