using System.Diagnostics;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Generation;
using static TorchSharp.torch;

namespace Reasoner.Cli.Bench;

/// <summary>A way of generating that the benchmark times: given new tokens per row, generates and returns the tokens it made.</summary>
sealed record BenchVariant(string Name, Func<int, Task<int>> Generate);

/// <summary>Two variants side by side; the speed-up is the contender's tokens/s over the baseline's.</summary>
sealed record BenchComparison(string Name, BenchVariant Baseline, BenchVariant Contender, double? TargetSpeedUp = null);

/// <summary>One timed run of a variant.</summary>
sealed record BenchRun(int Tokens, TimeSpan Elapsed, long? PeakBytes);

/// <summary>A variant's runs: tokens per run, the median, fastest and slowest wall time, and the largest memory peak.</summary>
sealed record BenchResult(int Tokens, TimeSpan Median, TimeSpan Fastest, TimeSpan Slowest, long? PeakBytes)
{
    public double TokensPerSecond => Tokens / Median.TotalSeconds;
}

/// <summary>
/// The engine's generation paths against their naive counterparts, on one model and one prompt. Every variant
/// generates with EOS ignored, so each row makes exactly the requested tokens; tokens/s counts generated tokens
/// over wall time, prompt prefill included (that is what prefix forking saves).
/// </summary>
sealed class GenerationBench(TorchEngine engine, string prompt, int k, long seed)
{
    /// <summary>
    /// The table's rows. Another backend (llama.cpp through LLamaSharp) joins as one more entry, e.g.
    /// <c>new("Reasoner vs llama.cpp, 1 row", new("Reasoner, KV cache", WithKvCache), llamaCppVariant)</c>.
    /// </summary>
    public IReadOnlyList<BenchComparison> Comparisons() =>
    [
        new("decoding, 1 row", new("full recompute (no KV cache)", FullRecompute), new("KV cache", WithKvCache)),
        new($"{k} siblings", new($"one by one ({k} requests)", OneByOne), new($"batched, prefix forked (N={k})", Forked),
            TargetSpeedUp: k >= 8 ? 3 : null), // the project's target, set for k = 8
    ];

    /// <summary>
    /// Both variants after a short warm-up each, then <paramref name="repeats"/> rounds of baseline-then-contender, so
    /// a change in the machine's load hits both alike; the median run counts (the fastest would favour the shorter
    /// variant, which more easily fits in a quiet moment of a shared machine).
    /// </summary>
    public static async Task<(BenchResult Baseline, BenchResult Contender)> Measure(BenchComparison comparison, int newTokens, int repeats)
    {
        // First calls pay for JIT compilation and libtorch's thread pool.
        await comparison.Baseline.Generate(Math.Min(4, newTokens));
        await comparison.Contender.Generate(Math.Min(4, newTokens));
        var baseline = new List<BenchRun>();
        var contender = new List<BenchRun>();
        for (int i = 0; i < repeats; i++)
        {
            baseline.Add(await Run(comparison.Baseline, newTokens));
            contender.Add(await Run(comparison.Contender, newTokens));
        }
        return (Summary(baseline), Summary(contender));
    }

    private static async Task<BenchRun> Run(BenchVariant variant, int newTokens)
    {
        long start = PeakMemory.Reset();
        var clock = Stopwatch.StartNew();
        int tokens = await variant.Generate(newTokens);
        return new BenchRun(tokens, clock.Elapsed, PeakMemory.Since(start));
    }

    private static BenchResult Summary(IReadOnlyList<BenchRun> runs)
    {
        var times = runs.Select(r => r.Elapsed).Order().ToArray();
        var median = times.Length % 2 == 1 ? times[times.Length / 2] : (times[times.Length / 2 - 1] + times[times.Length / 2]) / 2;
        return new BenchResult(runs[0].Tokens, median, times[0], times[^1], runs.Max(r => r.PeakBytes));
    }

    private CompletionRequest Request(int n, int newTokens, long requestSeed) =>
        new(prompt, n, newTokens) { Seed = requestSeed, Temperature = 1.0 };

    private async Task<int> WithKvCache(int newTokens) =>
        (await engine.CompleteAsync(Request(1, newTokens, seed))).Sum(c => c.TokenCount);

    private async Task<int> OneByOne(int newTokens)
    {
        int tokens = 0;
        for (int i = 0; i < k; i++) tokens += (await engine.CompleteAsync(Request(1, newTokens, seed + i))).Sum(c => c.TokenCount);
        return tokens;
    }

    private async Task<int> Forked(int newTokens) =>
        (await engine.CompleteAsync(Request(k, newTokens, seed))).Sum(c => c.TokenCount);

    /// <summary>
    /// Generation as it is done without a cache: the whole sequence runs through the model for every token. On a thread
    /// of its own with the engine's threads, whose libtorch team ends with it (IntraOpThreads.OnThreadOfItsOwn).
    /// </summary>
    private Task<int> FullRecompute(int newTokens) => Task.Run(() => IntraOpThreads.OnThreadOfItsOwn(() =>
    {
        var model = engine.Model;
        var device = model.parameters().First().device;
        int decodable = Math.Min(model.Config.VocabSize, engine.Tokenizer.VocabSize);
        var sampler = new TokenSampler(temperature: 1.0, topP: 1.0);
        var random = new Random((int)seed);
        var ids = engine.Tokenizer.Encode(prompt).Select(id => (long)id).ToList();
        using var noGrad = no_grad();
        for (int i = 0; i < newTokens; i++)
        {
            using var scope = NewDisposeScope();
            var hidden = model.HiddenStates(tensor(ids.ToArray(), [1, ids.Count], device: device));
            var logProbs = model.Logits(hidden[0, ids.Count - 1]).to(ScalarType.Float32).log_softmax(-1).cpu().data<float>().ToArray();
            ids.Add(sampler.Sample(logProbs.AsSpan(0, decodable), random));
        }
        return newTokens;
    }, threads: get_num_threads()));
}
