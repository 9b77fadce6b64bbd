using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;
using static TorchSharp.torch;

namespace Reasoner.Models.Generation;

/// <summary>
/// Several <see cref="TorchEngine"/> loops over one set of weights, each on its share of the cores, with every request
/// routed to one of them: data parallelism inside the process, as vLLM's data-parallel replicas, for a CPU whose
/// forwards are too small to keep two threads busy.
/// <para>
/// Why: a batched forward of a few dozen tokens spends much of its time in calls that libtorch runs on one thread
/// whatever its thread count (norms, rotary, indexing, small products below its parallel grain), while the other core
/// waits, and in hand-offs between threads (README, bench search); two loops of one thread each keep both cores
/// computing. Each loop batches its own requests across callers as one engine does.
/// </para>
/// <para>
/// The loops share one prefix cache (<see cref="PrefixCache"/>), so a child's prompt reuses its parent's keys and values
/// whichever loop prefilled the parent, and every request goes to the loop with the fewest requests in flight.
/// </para>
/// Seeded requests give the same completions on any replica (the engine's rows draw from their own seeded
/// generators); what shares a forward changes logits by fp32 rounding only, as on one engine.
/// </summary>
public sealed class EngineReplicas : ILanguageModel, IContextWindow
{
    private readonly CausalLanguageModel model;
    private readonly bool ownsModel;
    private readonly TorchEngine[] engines;
    private readonly int[] inFlight;
    private readonly long[] routed;
    private readonly PrefixCache prefixCache;
    private readonly object gate = new();

    /// <param name="model">The weights every replica serves (not owned: dispose them yourself).</param>
    /// <param name="replicas">Engine loops.</param>
    /// <param name="options">Options of every replica; where they set no <see cref="TorchEngineOptions.Threads"/>, the
    /// machine's cores are shared out among the replicas (at least one each).</param>
    public EngineReplicas(CausalLanguageModel model, ITextTokenizer tokenizer, string modelId, int replicas, TorchEngineOptions? options = null)
        : this(model, tokenizer, modelId, replicas, options, ownsModel: false)
    {
    }

    private EngineReplicas(CausalLanguageModel model, ITextTokenizer tokenizer, string modelId, int replicas, TorchEngineOptions? options, bool ownsModel)
    {
        if (replicas < 1) throw new ArgumentOutOfRangeException(nameof(replicas), $"replicas must be at least 1, not {replicas}");
        this.model = model;
        this.ownsModel = ownsModel;
        options ??= new TorchEngineOptions();
        var perReplica = options with { Threads = options.Threads ?? Math.Max(1, Environment.ProcessorCount / replicas) };
        prefixCache = new PrefixCache(options.PrefixCacheTokens);
        engines = [.. Enumerable.Range(0, replicas).Select(_ => new TorchEngine(model, tokenizer, modelId, perReplica, prefixCache))];
        inFlight = new int[replicas];
        routed = new long[replicas];
        ModelId = modelId;
    }

    /// <summary>Loads a Hugging Face model folder once for every replica; the replicas own it.</summary>
    public static EngineReplicas Load(string directory, int replicas, Device? device = null, TorchEngineOptions? options = null, ScalarType dtype = ScalarType.Float32)
    {
        var checkpoint = CheckpointLoader.Load(directory, device, dtype);
        return new EngineReplicas(checkpoint.Model, checkpoint.Tokenizer, Path.TrimEndingDirectorySeparator(directory), replicas, options, ownsModel: true);
    }

    /// <summary>
    /// Models up to this many matrix weights (<see cref="ModelConfig.MatrixWeights"/>) get one loop per worker on a CPU:
    /// their forwards are too small to keep several threads busy (the built-in model has 3.3M). Larger ones keep one
    /// engine, whose products are wide enough for every core and whose prefix cache would otherwise be held once per loop.
    /// </summary>
    public const long SmallModelWeights = 20_000_000;

    /// <summary>
    /// Replicas for <paramref name="workers"/> search workers: for a small model on a CPU one per worker up to one per
    /// core (each a loop of its own that the other cores need not wait on); otherwise one, as on a GPU, whose forwards
    /// are wide enough to batch everything in flight.
    /// </summary>
    /// <param name="matrixWeights">The model's <see cref="ModelConfig.MatrixWeights"/>.</param>
    public static int AutoCount(int workers, Device? device, long matrixWeights) =>
        device is { type: not TorchSharp.DeviceType.CPU } || matrixWeights > SmallModelWeights ? 1 : Math.Max(1, Math.Min(workers, Environment.ProcessorCount));

    public string ModelId { get; }

    /// <summary>The weights' dtype in memory.</summary>
    public ScalarType Dtype => engines[0].Dtype;

    public IReadOnlyList<TorchEngine> Engines => engines;

    /// <summary>Requests each replica has been given so far.</summary>
    public IReadOnlyList<long> RequestsRouted
    {
        get { lock (gate) return [.. routed]; }
    }

    public int ContextLength => engines[0].ContextLength;

    public int CountPromptTokens(string prompt) => engines[0].CountPromptTokens(prompt);

    /// <summary>The replicas' loop counters added up (busy time is summed over loops, so it can exceed the wall time).</summary>
    public EngineBatchStats BatchStats => engines.Select(e => e.BatchStats).Aggregate((a, b) =>
        new EngineBatchStats(a.Forwards + b.Forwards, a.RequestsServed + b.RequestsServed, Math.Max(a.LargestBatch, b.LargestBatch), a.TokensFed + b.TokensFed, a.Busy + b.Busy));

    /// <summary>The counters of the prefix cache the replicas share.</summary>
    public PrefixCacheStats PrefixCacheStats => prefixCache.Stats;

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default) =>
        Routed(engine => engine.CompleteAsync(request, cancel));

    public Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default) =>
        Routed(engine => engine.ScoreAsync(prompt, continuations, cancel));

    private async Task<T> Routed<T>(Func<TorchEngine, Task<T>> call)
    {
        int replica = 0;
        lock (gate)
        {
            for (int r = 1; r < engines.Length; r++)
                if (inFlight[r] < inFlight[replica]) replica = r;
            inFlight[replica]++;
            routed[replica]++;
        }
        try
        {
            return await call(engines[replica]).ConfigureAwait(false);
        }
        finally
        {
            lock (gate) inFlight[replica]--;
        }
    }

    public void Dispose()
    {
        foreach (var engine in engines) engine.Dispose();
        prefixCache.Dispose();
        if (ownsModel) model.Dispose();
    }
}
