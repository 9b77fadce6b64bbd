using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;
using System.Threading.Channels;
using static TorchSharp.torch;

namespace Reasoner.Models.Generation;

/// <summary>
/// The in-process <see cref="ILanguageModel"/>: a <see cref="CausalLanguageModel"/> with a KV cache, serving every
/// caller from one loop that batches across requests, as vLLM and SGLang do.
/// <list type="bullet">
/// <item>Batching across requests: requests queue in a channel while a forward runs; between forwards the loop takes
/// in every queued request, so one forward advances every request in flight (each with its own stop strings,
/// temperature, top-p, seed and token limit), finished requests leave and new ones join (<see cref="SharedRow"/>).
/// Scoring requests join the same forwards. <see cref="TorchEngineOptions.BatchAcrossRequests"/> off serves one
/// request at a time instead.</item>
/// <item>Prefix forking: a request's prompt is prefilled once, in a shared forward with whatever else is in flight,
/// and its N rows decode after it with a tree-shaped attention mask: the prompt's keys and values are neither
/// copied per row nor read once per row.</item>
/// <item>Prefix cache: recent prompts' caches are kept (<see cref="PrefixCache"/>), so a prompt that extends an
/// earlier one — a child node's prompt is its parent's plus the parent's step — prefills only the new tokens.</item>
/// <item>Seeds: every row draws from its own generator seeded by (request seed, row index), so a seeded request
/// gives the same completions whatever else the engine serves; what shares its forward or a prefix-cache hit changes
/// the logits by fp32 rounding only.</item>
/// <item>Token log-probabilities are log-softmax of the untempered logits over the whole model vocabulary: the
/// model's own probabilities, which search uses as priors. Sampling draws only among ids the tokenizer can decode.</item>
/// </list>
/// After the model's weights change (training), call <see cref="ClearPrefixCache"/>.
/// </summary>
public sealed class TorchEngine : ILanguageModel, IContextWindow
{
    private readonly CausalLanguageModel model;
    private readonly bool ownsModel;
    private readonly Device device;
    private readonly PrefixCache prefixCache;
    private readonly bool ownsPrefixCache;
    private readonly IReadOnlySet<int> endOfSequence;
    private readonly int vocabulary, decodableVocabulary;
    private readonly bool batchAcrossRequests;
    private readonly int? threads;
    private readonly int smallForwardTokens;
    private int loopThreads; // the loop thread's intra-op threads now
    private readonly Channel<Job> queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly object modelLock = new(), startLock = new();
    private SharedRow sharedRow;
    private readonly List<Job> finished = []; // done in this turn of the loop, published at its end
    private Thread? loop;
    private volatile bool disposed;

    /// <summary>An engine over a model it does not own (training keeps updating it; dispose the model yourself).</summary>
    public TorchEngine(CausalLanguageModel model, ITextTokenizer tokenizer, string modelId, TorchEngineOptions? options = null)
        : this(model, tokenizer, modelId, options ?? new TorchEngineOptions(), ownsModel: false)
    {
    }

    /// <summary>An engine over a model it does not own, whose prefix cache is <paramref name="prefixCache"/>, shared with other engines over the same weights and not owned.</summary>
    internal TorchEngine(CausalLanguageModel model, ITextTokenizer tokenizer, string modelId, TorchEngineOptions options, PrefixCache prefixCache)
        : this(model, tokenizer, modelId, options, ownsModel: false, prefixCache)
    {
    }

    private TorchEngine(CausalLanguageModel model, ITextTokenizer tokenizer, string modelId, TorchEngineOptions options, bool ownsModel, PrefixCache? sharedPrefixCache = null)
    {
        if (options.PrefixCacheTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), "PrefixCacheTokens must be >= 0");
        if (options.Threads < 1) throw new ArgumentOutOfRangeException(nameof(options), $"Threads must be at least 1, not {options.Threads}");
        if (options.SmallForwardTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), $"SmallForwardTokens must be at least 0, not {options.SmallForwardTokens}");
        this.model = model;
        this.ownsModel = ownsModel;
        Tokenizer = tokenizer;
        ModelId = modelId;
        device = model.parameters().First().device;
        ownsPrefixCache = sharedPrefixCache is null;
        prefixCache = sharedPrefixCache ?? new PrefixCache(options.PrefixCacheTokens);
        endOfSequence = options.IgnoreEndOfSequence ? new HashSet<int>() : model.Config.EosTokenIds.Append(tokenizer.EosId).ToHashSet();
        vocabulary = model.Config.VocabSize;
        decodableVocabulary = Math.Min(vocabulary, tokenizer.VocabSize);
        batchAcrossRequests = options.BatchAcrossRequests;
        threads = options.Threads;
        smallForwardTokens = options.SmallForwardTokens;
        sharedRow = new SharedRow(GroupedKvCache.For(model));
    }

    /// <summary>Loads a Hugging Face model folder; the engine owns the model. The model id is the folder as given.</summary>
    /// <param name="dtype">The weights' dtype in memory (<see cref="TorchRuntime.ParseDtype"/>).</param>
    public static TorchEngine Load(string directory, Device? device = null, TorchEngineOptions? options = null, ScalarType dtype = ScalarType.Float32)
    {
        var checkpoint = CheckpointLoader.Load(directory, device, dtype);
        return new TorchEngine(checkpoint.Model, checkpoint.Tokenizer, Path.TrimEndingDirectorySeparator(directory), options ?? new TorchEngineOptions(), ownsModel: true);
    }

    public string ModelId { get; }

    public ITextTokenizer Tokenizer { get; }

    public CausalLanguageModel Model => model;

    /// <summary>The weights' dtype in memory (the model id names the folder only, so logs add this where it is not fp32).</summary>
    public ScalarType Dtype => model.parameters().First().dtype;

    /// <summary>The checkpoint's <c>max_position_embeddings</c>.</summary>
    public int ContextLength => model.Config.MaxPositionEmbeddings;

    public int CountPromptTokens(string prompt) => Tokenizer.Encode(prompt).Length;

    /// <summary>A snapshot of the prefix cache's counters (with <see cref="EngineReplicas"/>, the cache every loop shares).</summary>
    public PrefixCacheStats PrefixCacheStats => prefixCache.Stats;

    /// <summary>Counters of the loop's forwards since the engine started (read without the lock: may be mid-forward).</summary>
    public EngineBatchStats BatchStats => new(forwards, requestsServed, largestBatch, tokensFed, TimeSpan.FromTicks(busyTicks));

    private long forwards, requestsServed, tokensFed, busyTicks;
    private int largestBatch;

    /// <summary>Test hook: slots the shared row holds now, live and not yet compacted (read without the lock).</summary>
    internal long SharedRowSlots => sharedRow.Length;

    /// <summary>Test hook: called with (row, log-probabilities over the vocabulary) before each token of a row is drawn.</summary>
    internal Action<int, float[]>? LogProbsObserved { get; set; }

    /// <summary>
    /// Test hook: holds the loop between forwards until disposed (on the same thread, with no await in between), so
    /// that requests made meanwhile are all waiting when it goes on and join one forward.
    /// </summary>
    internal IDisposable HoldLoop()
    {
        Monitor.Enter(modelLock);
        return new Held(modelLock);
    }

    private sealed class Held(object gate) : IDisposable
    {
        public void Dispose() => Monitor.Exit(gate);
    }

    /// <summary>Drops every cached prompt; needed after the weights change, since cached keys/values came from the old ones.</summary>
    public void ClearPrefixCache()
    {
        lock (modelLock) prefixCache.Clear();
    }

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
    {
        Validate(request);
        var sampler = new TokenSampler(request.Temperature, request.TopP); // checks temperature and top-p
        int[] promptIds;
        try { promptIds = EncodePrompt(request.Prompt); }
        catch (ArgumentException e) { return Task.FromException<IReadOnlyList<Completion>>(e); }
        long seed = request.Seed ?? Random.Shared.NextInt64();
        var rows = Enumerable.Range(0, request.N)
            .Select(i => new SampledRow(Tokenizer, RowRandom(seed, i), request.Stop, endOfSequence, request.MaxTokens))
            .ToArray();
        return Submit(new CompletionJob(promptIds, sampler, rows, cancel));
    }

    /// <summary>N roll-outs to the end of the solution: no stop strings, so each row runs to EOS or the token limit.</summary>
    public Task<IReadOnlyList<Completion>> RolloutAsync(string prompt, int n, int maxTokens, double temperature = 1.0, double topP = 1.0,
        long? seed = null, CancellationToken cancel = default) =>
        CompleteAsync(new CompletionRequest(prompt, n, maxTokens) { Temperature = temperature, TopP = topP, Seed = seed }, cancel);

    /// <summary>
    /// Log-probabilities of each continuation's tokens after the prompt. The tokens are the prompt's own, then the
    /// continuation's own (each text encoded separately, the split a sampled completion has), so scoring a text
    /// that BPE would merge across the seam still scores the tokens a sampler would have had to produce.
    /// </summary>
    public async Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default)
    {
        var promptIds = Tokenizer.Encode(prompt);
        var continuationIds = continuations.Select(c => (IReadOnlyList<int>)Tokenizer.Encode(c)).ToArray();
        IReadOnlyList<double[]> logProbs;
        if (promptIds.Length > 0) logProbs = await Submit(new ScoreJob(promptIds, continuationIds, cancel));
        else
        {
            // Nothing to condition on (an empty prompt and no BOS token, as in Qwen and the built-in model): a text's
            // first token is the context of the rest and has no probability itself, NaN here and null in OpenAI's echo.
            // Each text is its own request, and they share the loop's forwards.
            var rests = await Task.WhenAll(continuationIds.Select(ids => ids.Count > 1
                ? Submit(new ScoreJob([ids[0]], [ids.Skip(1).ToArray()], cancel))
                : Task.FromResult<IReadOnlyList<double[]>>([[]])));
            logProbs = continuationIds.Select((ids, i) => ids.Count == 0 ? [] : (double[])[double.NaN, .. rests[i][0]]).ToArray();
        }
        return continuations.Select((c, i) => new ScoredContinuation(c, continuationIds[i], logProbs[i])
        {
            TokenTexts = IncrementalDetokenizer.Pieces(Tokenizer, continuationIds[i]),
        }).ToArray();
    }

    /// <summary>Token-level <see cref="ScoreAsync"/>: log-probabilities of each continuation's ids after the prompt's ids.</summary>
    public Task<IReadOnlyList<double[]>> ScoreTokensAsync(IReadOnlyList<int> promptIds, IReadOnlyList<IReadOnlyList<int>> continuations, CancellationToken cancel = default)
    {
        if (promptIds.Count == 0) throw new ArgumentException("the prompt must have at least one token", nameof(promptIds));
        foreach (var id in promptIds.Concat(continuations.SelectMany(c => c)))
            if (id < 0 || id >= vocabulary) throw new ArgumentOutOfRangeException(nameof(continuations), $"token id {id} is outside the model's vocabulary of {vocabulary}");
        return Submit(new ScoreJob(promptIds.ToArray(), continuations, cancel));
    }

    private static void Validate(CompletionRequest request)
    {
        if (request.N < 1) throw new ArgumentOutOfRangeException(nameof(request), $"N must be at least 1, not {request.N}");
        if (request.MaxTokens < 1) throw new ArgumentOutOfRangeException(nameof(request), $"MaxTokens must be at least 1, not {request.MaxTokens}");
        if (request.Stop.Any(string.IsNullOrEmpty)) throw new ArgumentException("stop strings must not be empty", nameof(request));
    }

    private int[] EncodePrompt(string prompt)
    {
        var ids = Tokenizer.Encode(prompt);
        return ids.Length > 0 ? ids : throw new ArgumentException("the prompt must encode to at least one token", nameof(prompt));
    }

    // ---- The loop: one thread owns the model, the prefix cache and the shared row. ----

    /// <summary>
    /// A request in the loop. Admitted: its prompt joins the shared row, from the prefix cache and, for what the cache
    /// lacks, as tokens the next forward feeds. Then each forward advances it until it is done.
    /// </summary>
    private abstract class Job(int[] promptIds, CancellationToken cancel)
    {
        public int[] PromptIds { get; } = promptIds;

        public CancellationToken Cancel { get; } = cancel;

        /// <summary>Its group in the shared row, while it has one.</summary>
        public int? Group { get; set; }

        /// <summary>Prompt tokens the next forward feeds (what the prefix cache did not hold); null once fed.</summary>
        public int[]? PromptFeed { get; set; }

        public abstract void Fail(Exception error);

        /// <summary>Hands the results to the caller.</summary>
        public abstract void Publish();
    }

    /// <summary>A job whose caller awaits a <typeparamref name="T"/>.</summary>
    private abstract class Job<T>(int[] promptIds, CancellationToken cancel) : Job(promptIds, cancel)
    {
        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected abstract T Result();

        public override void Publish() => Done.TrySetResult(Result());

        public override void Fail(Exception error)
        {
            if (error is OperationCanceledException cancelled) Done.TrySetCanceled(cancelled.CancellationToken);
            else Done.TrySetException(error);
        }
    }

    private sealed class CompletionJob(int[] promptIds, TokenSampler sampler, SampledRow[] rows, CancellationToken cancel)
        : Job<IReadOnlyList<Completion>>(promptIds, cancel)
    {
        public TokenSampler Sampler { get; } = sampler;
        public SampledRow[] Rows { get; } = rows;
        public List<(int Row, int Sequence)> Active { get; } = [];
        protected override IReadOnlyList<Completion> Result() => [.. Rows.Select(r => r.ToCompletion())];
    }

    private sealed class ScoreJob(int[] promptIds, IReadOnlyList<IReadOnlyList<int>> continuations, CancellationToken cancel)
        : Job<IReadOnlyList<double[]>>(promptIds, cancel)
    {
        public IReadOnlyList<IReadOnlyList<int>> Continuations { get; } = continuations;
        public double[][] Results { get; } = [.. continuations.Select(c => new double[c.Count])];
        public List<(int Continuation, int Sequence)> Pending { get; } = [];
        protected override IReadOnlyList<double[]> Result() => Results;
    }

    private Task<T> Submit<T>(Job<T> job)
    {
        Enqueue(job);
        return job.Done.Task;
    }

    private void Enqueue(Job job)
    {
        lock (startLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            // A thread of its own rather than the thread pool's: the loop blocks in tensor work for as long as requests come.
            if (loop is null) (loop = new Thread(Loop) { IsBackground = true, Name = $"TorchEngine {ModelId}" }).Start();
            queue.Writer.TryWrite(job);
        }
    }

    private void Loop()
    {
        using var noGrad = no_grad();
        int largeForwardThreads = threads ?? IntraOpThreads.ForCurrentThread;
        loopThreads = IntraOpThreads.ForCurrentThread;
        var active = new List<Job>();
        Exception? failure = null;
        try
        {
            while (!disposed)
            {
                if (active.Count == 0 && !queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) break;
                lock (modelLock)
                {
                    if (disposed) break;
                    long started = System.Diagnostics.Stopwatch.GetTimestamp();
                    // Unbatched, a request is admitted only once the one before it has finished.
                    while ((batchAcrossRequests || active.Count == 0) && queue.Reader.TryRead(out var job))
                        Admit(job, active);
                    foreach (var job in active.Where(j => j.Cancel.IsCancellationRequested).ToArray())
                    {
                        Leave(job, active);
                        job.Fail(new OperationCanceledException(job.Cancel));
                    }
                    if (active.Count > 0) Step(active, largeForwardThreads);
                    // Results go out once the forward is over (its tensors disposed, its profile recorded).
                    foreach (var job in finished) job.Publish();
                    finished.Clear();
                    busyTicks += System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks;
                }
            }
        }
        catch (Exception error)
        {
            failure = error;
        }
        // Disposed, or a bug in the loop itself: fail what waits rather than leave callers hanging. After a bug the
        // next request starts a fresh loop on a fresh row (under the start lock, so none is queued in between).
        Exception reason = failure ?? new ObjectDisposedException(GetType().FullName);
        foreach (var job in finished) job.Publish();
        finished.Clear();
        foreach (var job in active) job.Fail(reason);
        lock (startLock)
        {
            while (queue.Reader.TryRead(out var queued)) queued.Fail(reason);
            if (failure is not null && !disposed)
            {
                loop = null;
                lock (modelLock)
                {
                    sharedRow.Dispose();
                    sharedRow = new SharedRow(GroupedKvCache.For(model));
                }
            }
        }
    }

    private void Admit(Job job, List<Job> active)
    {
        if (job.Cancel.IsCancellationRequested)
        {
            job.Fail(new OperationCanceledException(job.Cancel));
            return;
        }
        try
        {
            // The hit is leased while its slots are copied into the shared row (another loop sharing the cache may evict it).
            using var hit = prefixCache.Lookup(job.PromptIds);
            if (hit.NextLogProbs is { } cachedNext)
            {
                // The whole prompt is cached with the distribution of the token after it: nothing to feed.
                prefixCache.Record(reused: job.PromptIds.Length, prefilled: 0);
                if (Begin(job, cachedNext, hit.Cache!, promptHidden: null, promptAt: 0)) active.Add(job);
                return;
            }
            // At least the last prompt token is fed: its logits give the first sampled token.
            int reused = Math.Min(hit.Shared, job.PromptIds.Length - 1);
            prefixCache.Record(reused, job.PromptIds.Length - reused);
            job.Group = sharedRow.AddGroup(hit.Cache, reused);
            job.PromptFeed = job.PromptIds[reused..];
            if (job is ScoreJob score) AddScoredSequences(score);
            active.Add(job);
        }
        catch (Exception error)
        {
            if (job.Group is { } group) sharedRow.Release(group);
            job.Fail(error);
        }
    }

    // A scored continuation's tokens but the last are fed (its last position predicts nothing scored); one of one token needs no feed.
    private void AddScoredSequences(ScoreJob job)
    {
        for (int i = 0; i < job.Continuations.Count; i++)
            if (job.Continuations[i].Count > 1) job.Pending.Add((i, sharedRow.AddSequence(job.Group!.Value)));
    }

    /// <summary>
    /// A request whose whole prompt is in the row (or in <paramref name="prefix"/>, the prefix cache's entry) and
    /// whose next-token distribution is known: completions draw every row's first token, scores read every
    /// continuation's first one. For scores, <paramref name="promptHidden"/> holds the forward's hidden states, where
    /// continuations fed with the prompt are read from <paramref name="promptAt"/> on.
    /// </summary>
    /// <returns>Whether the request has work left for the next forward.</returns>
    private bool Begin(Job job, float[] next, KvCache? prefix, Tensor? promptHidden, int promptAt)
    {
        switch (job)
        {
            case CompletionJob completion:
            {
                var going = Enumerable.Range(0, completion.Rows.Length).Where(row => !Draw(completion.Sampler, completion.Rows[row], row, next)).ToArray();
                if (going.Length > 0)
                {
                    job.Group ??= sharedRow.AddGroup(prefix, job.PromptIds.Length);
                    foreach (var row in going) completion.Active.Add((row, sharedRow.AddSequence(job.Group.Value)));
                    return true;
                }
                finished.Add(completion);
                return false;
            }
            case ScoreJob score:
            {
                for (int i = 0; i < score.Continuations.Count; i++)
                    if (score.Continuations[i].Count > 0) score.Results[i][0] = next[score.Continuations[i][0]];
                if (promptHidden is not null)
                {
                    ReadScores(score, promptHidden, promptAt);
                    finished.Add(score);
                    return false;
                }
                if (score.Continuations.Any(c => c.Count > 1))
                {
                    job.Group = sharedRow.AddGroup(prefix, job.PromptIds.Length);
                    AddScoredSequences(score);
                    return true;
                }
                finished.Add(score);
                return false;
            }
            default:
                throw new InvalidOperationException(job.GetType().Name);
        }
    }

    /// <summary>Log-probabilities of the pending continuations' tokens after the first, fed from <paramref name="at"/> on.</summary>
    private void ReadScores(ScoreJob job, Tensor hidden, int at)
    {
        foreach (var (i, _) in job.Pending)
        {
            var continuation = job.Continuations[i];
            int fed = continuation.Count - 1;
            var targets = tensor(continuation.Skip(1).Select(id => (long)id).ToArray(), [fed, 1], device: device);
            // One continuation at a time: [tokens, vocabulary] for all of them could be gigabytes for a 150k vocabulary.
            var chosen = model.Logits(hidden.narrow(0, at, fed)).to(ScalarType.Float32).log_softmax(-1).gather(1, targets);
            var values = chosen.cpu().data<float>().ToArray();
            for (int j = 0; j < fed; j++) job.Results[i][j + 1] = values[j];
            at += fed;
        }
        job.Pending.Clear();
    }

    private void Leave(Job job, List<Job> active)
    {
        active.Remove(job);
        if (job.Group is { } group) sharedRow.Release(group);
        job.Group = null;
    }

    /// <summary>
    /// One forward for every request in flight: the prompts still to prefill, each decoding row's last token, and each
    /// scored continuation whole.
    /// </summary>
    private void Step(List<Job> active, int largeForwardThreads)
    {
        using var profiled = StepProfiler.Forward(decodesOnly: active.All(j => j is CompletionJob && j.PromptFeed is null));
        var feeds = new List<RowFeed>();
        var fullAt = new List<long>(); // the fed tokens whose whole next-token distribution is needed: prompts' last, decoding rows'
        var readFrom = new Dictionary<Job, int>(); // where a job's tokens after its prompt start: its scored continuations
        int fedTokens = 0;
        void Feed(RowFeed feed)
        {
            feeds.Add(feed);
            fedTokens += feed.Tokens.Length;
        }
        foreach (var job in active)
        {
            if (job.PromptFeed is { } prompt)
            {
                Feed(new RowFeed(job.Group!.Value, null, prompt));
                fullAt.Add(fedTokens - 1);
            }
            readFrom[job] = fedTokens;
            if (job is CompletionJob completion)
                foreach (var (row, sequence) in completion.Active)
                {
                    fullAt.Add(fedTokens);
                    Feed(new RowFeed(job.Group!.Value, sequence, [completion.Rows[row].LastToken]));
                }
            else if (job is ScoreJob score)
                foreach (var (i, sequence) in score.Pending)
                    Feed(new RowFeed(job.Group!.Value, sequence, [.. score.Continuations[i].Take(score.Continuations[i].Count - 1)]));
        }
        UseThreads(fedTokens <= smallForwardTokens ? 1 : largeForwardThreads);
        forwards++;
        requestsServed += active.Count;
        tokensFed += fedTokens;
        largestBatch = Math.Max(largestBatch, active.Count);
        var scope = NewDisposeScope();
        try
        {
            var hidden = sharedRow.Step(model, feeds, device);
            float[] logProbs;
            using (StepProfiler.Measure("logits, log-softmax, copy to .NET"))
                logProbs = fullAt.Count > 0 ? LogProbs(hidden.index_select(0, tensor(fullAt.ToArray(), device: device))) : [];
            using var sampling = StepProfiler.Measure("sampling, detokenizing, stop strings");
            int full = 0;
            foreach (var job in active.ToArray())
            {
                bool going;
                if (job.PromptFeed is not null)
                {
                    var next = logProbs.AsSpan(full++ * vocabulary, vocabulary).ToArray();
                    job.PromptFeed = null;
                    if (prefixCache.Keeps(job.PromptIds.Length)) prefixCache.Retain(job.PromptIds, sharedRow.CopyPrompt(job.Group!.Value), next);
                    going = Begin(job, next, prefix: null, promptHidden: hidden, promptAt: readFrom[job]);
                }
                else if (job is CompletionJob completion)
                {
                    foreach (var (row, sequence) in completion.Active.ToArray())
                        if (Draw(completion.Sampler, completion.Rows[row], row, logProbs.AsSpan(full++ * vocabulary, vocabulary)))
                            completion.Active.Remove((row, sequence));
                    going = completion.Active.Count > 0;
                    if (!going) finished.Add(completion);
                }
                else
                {
                    var score = (ScoreJob)job;
                    ReadScores(score, hidden, readFrom[job]);
                    finished.Add(score);
                    going = false;
                }
                if (!going) Leave(job, active);
            }
        }
        catch (Exception error)
        {
            // A failed forward leaves the shared row in no known state: fail what was in it and start a fresh one.
            foreach (var job in active) job.Fail(error);
            active.Clear();
            sharedRow.Dispose();
            sharedRow = new SharedRow(GroupedKvCache.For(model));
        }
        finally
        {
            using (StepProfiler.Measure("disposing the step's tensors"))
                scope.Dispose();
        }
    }

    private void UseThreads(int wanted)
    {
        if (wanted == loopThreads) return;
        IntraOpThreads.SetForCurrentThread(wanted);
        loopThreads = wanted;
    }

    /// <returns>Whether the row is finished.</returns>
    private bool Draw(TokenSampler sampler, SampledRow row, int index, ReadOnlySpan<float> logProbs)
    {
        LogProbsObserved?.Invoke(index, logProbs.ToArray());
        int token = sampler.Sample(logProbs[..decodableVocabulary], row.Random);
        return row.Accept(token, logProbs[token]);
    }

    // [rows, hidden] -> log-softmax of the logits, copied to the CPU.
    private float[] LogProbs(Tensor hidden) =>
        model.Logits(hidden).to(ScalarType.Float32).log_softmax(-1).cpu().data<float>().ToArray();

    /// <summary>
    /// The seed of a one-row request that draws what row <paramref name="row"/> of a request seeded with
    /// <paramref name="seed"/> draws: splitting k siblings into k requests (a benchmark's baseline) keeps the samples.
    /// </summary>
    public static long SeedOfRow(long seed, int row) => unchecked(seed + (long)(0x9E3779B97F4A7C15UL * (ulong)row));

    // SplitMix64 of (seed, row): neighbouring seeds and rows get unrelated streams.
    private static Random RowRandom(long seed, int row)
    {
        ulong z = unchecked((ulong)SeedOfRow(seed, row) + 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return new Random((int)(z ^ (z >> 31)));
    }

    public void Dispose()
    {
        Thread? running;
        lock (startLock)
        {
            if (disposed) return;
            disposed = true;
            queue.Writer.TryComplete();
            running = loop;
        }
        running?.Join();
        lock (modelLock)
        {
            sharedRow.Dispose();
            if (ownsPrefixCache) prefixCache.Dispose();
            if (ownsModel) model.Dispose();
        }
    }
}
