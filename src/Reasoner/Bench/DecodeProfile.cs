using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Generation;
using Reasoner.Models.Tokenization;
using Reasoner.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Cli.Bench;

/// <summary>
/// One thread count's profile of decoding <see cref="Rows"/> prefix-forked rows: milliseconds per decoding forward by
/// phase (one token for every row), and what the arithmetic alone would take.
/// </summary>
sealed record DecodeProfileResult(int Threads, int Rows, long Forwards, IReadOnlyDictionary<string, double> MillisecondsPerForward, double PeakFlops, double FlopsPerForward,
    double BytesPerSecond, double WeightBytes)
{
    public double TotalMilliseconds => MillisecondsPerForward[StepProfiler.WholeForward];

    public double TokensPerSecond => Rows * 1e3 / TotalMilliseconds;

    /// <summary>The same decoding on <see cref="DecodeProfile.Skeleton"/> of the model: its libtorch calls with almost no arithmetic.</summary>
    public double? SkeletonMilliseconds { get; init; }

    /// <summary>The forward's FLOPs at the measured matmul peak.</summary>
    public double ComputeMilliseconds => FlopsPerForward / PeakFlops * 1e3;

    /// <summary>
    /// Every weight read once at the measured memory bandwidth: at a few rows a forward reads each weight matrix for a
    /// few multiply-adds per element, so memory, not arithmetic, is the floor no removal of overhead goes below.
    /// </summary>
    public double WeightReadMilliseconds => WeightBytes / BytesPerSecond * 1e3;
}

/// <summary>
/// <c>bench generate --profile</c>: one request of one row or of k prefix-forked rows decoding through the engine with
/// <see cref="StepProfiler"/> on, at each thread count, after a warm-up; prefill forwards are not recorded. The phases
/// are the engine's and the model's own (inputs and mask, each block of each layer, logits, sampling, disposal); what
/// no phase covers is the loop's bookkeeping between them.
/// </summary>
static class DecodeProfile
{
    /// <summary>Phases in the order a forward runs them; those starting with spaces are parts of the phase above.</summary>
    public static readonly string[] Phases =
    [
        "feeds, attention mask, input tensors",
        "model: positions, masks, rotary tables",
        "model: embedding, final norm",
        "model: attention block",
        "  of which: KV cache append",
        "  of which: scaled dot-product attention",
        "model: MLP block",
        "model: cache bookkeeping",
        "logits, log-softmax, copy to .NET",
        "sampling, detokenizing, stop strings",
        "disposing the step's tensors",
    ];

    /// <summary>
    /// The model's shape with every head 2 wide, the MLP 8 wide and random weights: a forward makes the same libtorch
    /// calls in the same order (layers, heads, vocabulary and every phase unchanged) on tensors too small for their
    /// arithmetic to count, so its time per token is what the calls alone cost — dispatch through TorchSharp and
    /// libtorch, allocation, the engine's own work — the part of a token no faster kernel inside a call removes.
    /// </summary>
    public static CausalLanguageModel Skeleton(CausalLanguageModel model, int seed)
    {
        var config = model.Config;
        var skeleton = config with
        {
            HiddenSize = 2 * config.NumAttentionHeads,
            HeadDimOverride = config.HeadDimOverride is null ? null : 2,
            IntermediateSize = 8,
        };
        manual_seed(seed);
        var result = new CausalLanguageModel(skeleton);
        result.InitializeWeights();
        result.to(model.parameters().First().device);
        result.eval();
        return result;
    }

    /// <summary><see cref="RunAsync"/> on the engine's model and on its <see cref="Skeleton"/>, at one thread count.</summary>
    public static async Task<DecodeProfileResult> RunWithSkeletonAsync(TorchEngine engine, string prompt, int rows, int newTokens, int repeats, int threads, long seed)
    {
        var profile = await RunAsync(engine.Model, engine.Tokenizer, prompt, rows, newTokens, repeats, threads, seed);
        using var skeleton = Skeleton(engine.Model, (int)seed);
        var bare = await RunAsync(skeleton, engine.Tokenizer, prompt, rows, newTokens, repeats, threads, seed);
        return profile with { SkeletonMilliseconds = bare.TotalMilliseconds };
    }

    /// <summary>
    /// Decoding on an engine of its own whose every forward runs on <paramref name="threads"/> intra-op threads (the
    /// engine's thread is the one that computes, so the count is set there, not on the caller's).
    /// </summary>
    public static async Task<DecodeProfileResult> RunAsync(CausalLanguageModel model, ITextTokenizer tokenizer, string prompt, int rows, int newTokens, int repeats, int threads, long seed)
    {
        using var engine = new TorchEngine(model, tokenizer, "profiled", new TorchEngineOptions
        {
            PrefixCacheTokens = 0, IgnoreEndOfSequence = true, Threads = threads, SmallForwardTokens = 0,
        });
        var request = new CompletionRequest(prompt, rows, newTokens) { Seed = seed };
        await engine.CompleteAsync(request with { MaxTokens = Math.Min(8, newTokens) }); // JIT, libtorch's thread pool
        StepProfiler.Start();
        for (int i = 0; i < repeats; i++) await engine.CompleteAsync(request);
        var (steps, phases) = StepProfiler.Stop();
        var perForward = phases.ToDictionary(p => p.Key, p => p.Value.TotalMilliseconds / Math.Max(1, steps));
        // Forward FLOPs of one decoded token: 2 per weight, plus attention (QKᵀ and AV, 2·2·d per head and layer) over
        // the context it sees, on average the prompt and half the new tokens; a forward decodes one token per row.
        var config = model.Config;
        int promptTokens = tokenizer.Encode(prompt).Length;
        double context = promptTokens + newTokens / 2.0;
        double flops = 2.0 * model.ParameterCount() + 4.0 * config.NumHiddenLayers * config.NumAttentionHeads * config.HeadDim * context;
        var device = model.parameters().First().device;
        double weightBytes = model.parameters().Sum(p => p.numel() * p.element_size());
        // The peak (in the weights' dtype) and the bandwidth with the same threads, on a thread whose team ends with it.
        var (peak, bandwidth) = await Task.Run(() => IntraOpThreads.OnThreadOfItsOwn(() => (TrainingFlops.MeasureMatmulPeak(device, dtype: model.parameters().First().dtype), MeasureCopyBandwidth(device)), threads));
        return new DecodeProfileResult(threads, rows, steps, perForward, peak, rows * flops, bandwidth, weightBytes);
    }

    /// <summary>Bytes per second read and written by the fastest of a few copies of a 256 MiB tensor (far past any cache).</summary>
    private static double MeasureCopyBandwidth(Device device)
    {
        using var noGrad = no_grad();
        using var source = empty(64L << 20, float32, device).fill_(1);
        using var target = empty_like(source);
        double best = double.MaxValue;
        for (int i = 0; i < 4; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            target.copy_(source);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * source.numel() * source.element_size() / best;
    }
}
