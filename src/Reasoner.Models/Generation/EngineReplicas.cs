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
/// Routing keeps a search's requests together, so each loop's prefix cache still serves a child's prompt from its
/// parent's: a request goes to the replica whose recent prompts share the longest prefix with it, if that is at least
/// half the prompt (a child's prompt is its parent's plus a step; two problems share only the template) and that
/// replica is less than <see cref="AffinitySlack"/> requests ahead of the least busy one; otherwise the least busy
/// replica takes it.
/// </para>
/// Seeded requests give the same completions on any replica (the engine's rows draw from their own seeded
/// generators); what shares a forward changes logits by fp32 rounding only, as on one engine.
/// </summary>
public sealed class EngineReplicas : ILanguageModel, IContextWindow
{
    /// <summary>A replica this many requests in flight ahead of the least busy one no longer takes requests for its prefix.</summary>
    public const int AffinitySlack = 2;

    /// <summary>Recent prompts remembered per replica for routing.</summary>
    private const int RememberedPrompts = 64;

    private readonly CausalLanguageModel model;
    private readonly bool ownsModel;
    private readonly TorchEngine[] engines;
    private readonly int[] inFlight;
    private readonly long[] routed;
    private readonly Queue<string>[] recent;
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
        engines = [.. Enumerable.Range(0, replicas).Select(_ => new TorchEngine(model, tokenizer, modelId, perReplica))];
        inFlight = new int[replicas];
        routed = new long[replicas];
        recent = [.. Enumerable.Range(0, replicas).Select(_ => new Queue<string>())];
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

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default) =>
        Routed(request.Prompt, engine => engine.CompleteAsync(request, cancel));

    public Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default) =>
        Routed(prompt, engine => engine.ScoreAsync(prompt, continuations, cancel));

    private async Task<T> Routed<T>(string prompt, Func<TorchEngine, Task<T>> call)
    {
        int replica;
        lock (gate)
        {
            replica = Route(prompt);
            inFlight[replica]++;
            routed[replica]++;
            var prompts = recent[replica];
            prompts.Enqueue(prompt);
            if (prompts.Count > RememberedPrompts) prompts.Dequeue();
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

    // Under the gate.
    private int Route(string prompt)
    {
        int leastBusy = 0;
        for (int r = 1; r < engines.Length; r++)
            if (inFlight[r] < inFlight[leastBusy]) leastBusy = r;
        int best = leastBusy, bestShared = -1;
        for (int r = 0; r < engines.Length; r++)
        {
            if (inFlight[r] > inFlight[leastBusy] + AffinitySlack - 1) continue;
            int shared = recent[r].Count == 0 ? 0 : recent[r].Max(p => SharedPrefix(p, prompt));
            if (2 * shared < prompt.Length) shared = 0;
            if (shared > bestShared || (shared == bestShared && inFlight[r] < inFlight[best])) (best, bestShared) = (r, shared);
        }
        return best;
    }

    private static int SharedPrefix(string a, string b) => a.AsSpan().CommonPrefixLength(b);

    public void Dispose()
    {
        foreach (var engine in engines) engine.Dispose();
        if (ownsModel) model.Dispose();
    }
}
