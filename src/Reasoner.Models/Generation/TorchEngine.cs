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
/// <item>Prefix forking: a request's prompt is prefilled once, at batch 1, and its N rows decode after it with a
/// tree-shaped attention mask: the prompt's keys and values are neither copied per row nor read once per row.</item>
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
    private readonly IReadOnlySet<int> endOfSequence;
    private readonly int vocabulary, decodableVocabulary;
    private readonly bool batchAcrossRequests;
    private readonly Channel<Job> queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly object modelLock = new(), startLock = new();
    private SharedRow sharedRow;
    private Thread? loop;
    private volatile bool disposed;

    /// <summary>An engine over a model it does not own (training keeps updating it; dispose the model yourself).</summary>
    public TorchEngine(CausalLanguageModel model, ITextTokenizer tokenizer, string modelId, TorchEngineOptions? options = null)
        : this(model, tokenizer, modelId, options ?? new TorchEngineOptions(), ownsModel: false)
    {
    }

    private TorchEngine(CausalLanguageModel model, ITextTokenizer tokenizer, string modelId, TorchEngineOptions options, bool ownsModel)
    {
        if (options.PrefixCacheTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), "PrefixCacheTokens must be >= 0");
        this.model = model;
        this.ownsModel = ownsModel;
        Tokenizer = tokenizer;
        ModelId = modelId;
        device = model.parameters().First().device;
        prefixCache = new PrefixCache(options.PrefixCacheTokens);
        endOfSequence = options.IgnoreEndOfSequence ? new HashSet<int>() : model.Config.EosTokenIds.Append(tokenizer.EosId).ToHashSet();
        vocabulary = model.Config.VocabSize;
        decodableVocabulary = Math.Min(vocabulary, tokenizer.VocabSize);
        batchAcrossRequests = options.BatchAcrossRequests;
        sharedRow = new SharedRow(model.Config.NumHiddenLayers);
    }

    /// <summary>Loads a Hugging Face model folder; the engine owns the model. The model id is the folder as given.</summary>
    public static TorchEngine Load(string directory, Device? device = null, TorchEngineOptions? options = null)
    {
        var checkpoint = CheckpointLoader.Load(directory, device);
        return new TorchEngine(checkpoint.Model, checkpoint.Tokenizer, Path.TrimEndingDirectorySeparator(directory), options ?? new TorchEngineOptions(), ownsModel: true);
    }

    public string ModelId { get; }

    public ITextTokenizer Tokenizer { get; }

    public CausalLanguageModel Model => model;

    /// <summary>The checkpoint's <c>max_position_embeddings</c>.</summary>
    public int ContextLength => model.Config.MaxPositionEmbeddings;

    public int CountPromptTokens(string prompt) => Tokenizer.Encode(prompt).Length;

    /// <summary>A snapshot of the prefix cache's counters (read without the lock: may be mid-request).</summary>
    public PrefixCacheStats PrefixCacheStats => prefixCache.Stats;

    /// <summary>Counters of the loop's forwards since the engine started (read without the lock: may be mid-forward).</summary>
    public EngineBatchStats BatchStats => new(forwards, requestsPerForward, largestBatch);

    private long forwards, requestsPerForward;
    private int largestBatch;

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
        int[] promptIds;
        try { promptIds = EncodePrompt(request.Prompt); }
        catch (ArgumentException e) { return Task.FromException<IReadOnlyList<Completion>>(e); }
        long seed = request.Seed ?? Random.Shared.NextInt64();
        var rows = Enumerable.Range(0, request.N)
            .Select(i => new SampledRow(Tokenizer, RowRandom(seed, i), request.Stop, endOfSequence, request.MaxTokens))
            .ToArray();
        return Submit(new CompletionJob(promptIds, new TokenSampler(request.Temperature, request.TopP), rows, cancel));
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
        _ = new TokenSampler(request.Temperature, request.TopP); // checks temperature and top-p
    }

    private int[] EncodePrompt(string prompt)
    {
        var ids = Tokenizer.Encode(prompt);
        return ids.Length > 0 ? ids : throw new ArgumentException("the prompt must encode to at least one token", nameof(prompt));
    }

    // ---- The loop: one thread owns the model, the prefix cache and the shared row. ----

    /// <summary>A request in the loop: admitted (prompt prefilled, sequences added to the shared row), stepped, then done.</summary>
    private abstract class Job(CancellationToken cancel)
    {
        public CancellationToken Cancel { get; } = cancel;

        /// <summary>Its prompt's group in the shared row, while it has sequences there.</summary>
        public int? Group { get; set; }

        public abstract void Fail(Exception error);

        protected static void FailTask<T>(TaskCompletionSource<T> done, Exception error)
        {
            if (error is OperationCanceledException cancelled) done.TrySetCanceled(cancelled.CancellationToken);
            else done.TrySetException(error);
        }
    }

    private sealed class CompletionJob(int[] promptIds, TokenSampler sampler, SampledRow[] rows, CancellationToken cancel) : Job(cancel)
    {
        public int[] PromptIds { get; } = promptIds;
        public TokenSampler Sampler { get; } = sampler;
        public SampledRow[] Rows { get; } = rows;
        public List<(int Row, int Sequence)> Active { get; } = [];
        public TaskCompletionSource<IReadOnlyList<Completion>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Finish() => Done.TrySetResult(Rows.Select(r => r.ToCompletion()).ToArray());
        public override void Fail(Exception error) => FailTask(Done, error);
    }

    private sealed class ScoreJob(int[] promptIds, IReadOnlyList<IReadOnlyList<int>> continuations, CancellationToken cancel) : Job(cancel)
    {
        public int[] PromptIds { get; } = promptIds;
        public IReadOnlyList<IReadOnlyList<int>> Continuations { get; } = continuations;
        public double[][] Results { get; } = [.. continuations.Select(c => new double[c.Count])];
        public List<(int Continuation, int Sequence)> Pending { get; } = [];
        public TaskCompletionSource<IReadOnlyList<double[]>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Finish() => Done.TrySetResult(Results);
        public override void Fail(Exception error) => FailTask(Done, error);
    }

    private Task<IReadOnlyList<Completion>> Submit(CompletionJob job)
    {
        Enqueue(job);
        return job.Done.Task;
    }

    private Task<IReadOnlyList<double[]>> Submit(ScoreJob job)
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
        var active = new List<Job>();
        try
        {
            while (!disposed)
            {
                if (active.Count == 0 && !queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) break;
                lock (modelLock)
                {
                    if (disposed) break;
                    // Unbatched, a request is admitted only once the one before it has finished.
                    while ((batchAcrossRequests || active.Count == 0) && queue.Reader.TryRead(out var job))
                        Admit(job, active);
                    foreach (var job in active.Where(j => j.Cancel.IsCancellationRequested).ToArray())
                    {
                        Leave(job, active);
                        job.Fail(new OperationCanceledException(job.Cancel));
                    }
                    if (active.Count > 0) Step(active);
                }
            }
        }
        catch (Exception error)
        {
            // A bug in the loop itself: fail what waits rather than leave callers hanging.
            foreach (var job in active) job.Fail(error);
            active.Clear();
        }
        var gone = new ObjectDisposedException(GetType().FullName);
        foreach (var job in active) job.Fail(gone);
        while (queue.Reader.TryRead(out var queued)) queued.Fail(gone);
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
            bool waiting = job switch
            {
                CompletionJob completion => AdmitCompletion(completion),
                ScoreJob score => AdmitScore(score),
                _ => throw new InvalidOperationException(job.GetType().Name),
            };
            if (waiting) active.Add(job);
        }
        catch (Exception error)
        {
            if (job.Group is { } group) sharedRow.Release(group);
            job.Fail(error);
        }
    }

    /// <returns>Whether the request has rows left to decode.</returns>
    private bool AdmitCompletion(CompletionJob job)
    {
        // Every row's first token comes from the prompt's last position; the rows that go on then decode in the shared row.
        var prompt = Prefill(job.PromptIds);
        try
        {
            var going = Enumerable.Range(0, job.Rows.Length).Where(row => !Draw(job.Sampler, job.Rows[row], row, prompt.NextLogProbs)).ToArray();
            if (going.Length > 0)
            {
                job.Group = sharedRow.AddGroup(prompt.Cache);
                foreach (var row in going) job.Active.Add((row, sharedRow.AddSequence(job.Group.Value)));
            }
        }
        finally
        {
            Release(job.PromptIds, prompt);
        }
        if (job.Active.Count == 0) job.Finish();
        return job.Active.Count > 0;
    }

    /// <summary>
    /// The prompt is prefilled once (through the prefix cache); each continuation then joins the next forward as a
    /// sequence of its own. A continuation's first token is scored by the prompt's last position, token j by the
    /// continuation's position j-1, so the last token itself need not be fed.
    /// </summary>
    private bool AdmitScore(ScoreJob job)
    {
        var prompt = Prefill(job.PromptIds);
        try
        {
            for (int i = 0; i < job.Continuations.Count; i++)
                if (job.Continuations[i].Count > 0) job.Results[i][0] = prompt.NextLogProbs[job.Continuations[i][0]];
            var longer = Enumerable.Range(0, job.Continuations.Count).Where(i => job.Continuations[i].Count > 1).ToArray();
            if (longer.Length > 0)
            {
                job.Group = sharedRow.AddGroup(prompt.Cache);
                foreach (var i in longer) job.Pending.Add((i, sharedRow.AddSequence(job.Group.Value)));
            }
        }
        finally
        {
            Release(job.PromptIds, prompt);
        }
        if (job.Pending.Count == 0) job.Finish();
        return job.Pending.Count > 0;
    }

    private void Leave(Job job, List<Job> active)
    {
        active.Remove(job);
        if (job.Group is { } group) sharedRow.Release(group);
        job.Group = null;
    }

    /// <summary>One forward for every request in flight: each decoding row's last token, each scored continuation whole.</summary>
    private void Step(List<Job> active)
    {
        var feeds = new List<(int Sequence, int[] Tokens)>();
        var decodeAt = new List<long>(); // where each decoding row's token sits among the fed tokens
        int fedTokens = 0;
        foreach (var job in active)
        {
            if (job is CompletionJob completion)
                foreach (var (row, sequence) in completion.Active)
                {
                    decodeAt.Add(fedTokens++);
                    feeds.Add((sequence, [completion.Rows[row].LastToken]));
                }
            else if (job is ScoreJob score)
                foreach (var (i, sequence) in score.Pending)
                {
                    var tokens = score.Continuations[i].Take(score.Continuations[i].Count - 1).ToArray();
                    feeds.Add((sequence, tokens));
                    fedTokens += tokens.Length;
                }
        }
        forwards++;
        requestsPerForward += active.Count;
        largestBatch = Math.Max(largestBatch, active.Count);
        try
        {
            using var scope = NewDisposeScope();
            var hidden = sharedRow.Step(model, feeds, device);
            // Decoding rows' log-probabilities in one transfer; scored continuations one at a time, since [tokens,
            // vocabulary] for all of them could be gigabytes for a 150k vocabulary.
            var logProbs = decodeAt.Count > 0 ? LogProbs(hidden.index_select(0, tensor(decodeAt.ToArray(), device: device))) : [];
            int offset = 0, decoded = 0;
            foreach (var job in active.ToArray())
            {
                if (job is CompletionJob completion)
                {
                    foreach (var (row, sequence) in completion.Active.ToArray())
                    {
                        if (Draw(completion.Sampler, completion.Rows[row], row, logProbs.AsSpan(decoded++ * vocabulary, vocabulary)))
                            completion.Active.Remove((row, sequence));
                        offset++;
                    }
                    if (completion.Active.Count == 0)
                    {
                        Leave(job, active);
                        completion.Finish();
                    }
                }
                else if (job is ScoreJob score)
                {
                    foreach (var (i, _) in score.Pending)
                    {
                        var continuation = score.Continuations[i];
                        int fed = continuation.Count - 1;
                        var targets = tensor(continuation.Skip(1).Select(id => (long)id).ToArray(), [fed, 1], device: device);
                        var chosen = model.Logits(hidden.narrow(0, offset, fed)).to(ScalarType.Float32).log_softmax(-1).gather(1, targets);
                        var values = chosen.cpu().data<float>().ToArray();
                        for (int j = 0; j < fed; j++) score.Results[i][j + 1] = values[j];
                        offset += fed;
                    }
                    score.Pending.Clear();
                    Leave(job, active);
                    score.Finish();
                }
            }
        }
        catch (Exception error)
        {
            // A failed forward leaves the shared row in no known state: fail what was in it and start a fresh one.
            foreach (var job in active) job.Fail(error);
            active.Clear();
            sharedRow.Dispose();
            sharedRow = new SharedRow(model.Config.NumHiddenLayers);
        }
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

    /// <summary>A prompt's batch-1 cache and the log-probabilities of the token after it.</summary>
    /// <param name="IsNew">The cache was built for this request (hand it to <see cref="Release"/>); otherwise it is the prefix cache's own: read it, never extend it.</param>
    private sealed record PromptState(KvCache Cache, float[] NextLogProbs, bool IsNew);

    private PromptState Prefill(int[] promptIds)
    {
        var (cached, cachedNext, shared) = prefixCache.Lookup(promptIds);
        if (cachedNext is not null)
        {
            prefixCache.Record(reused: promptIds.Length, prefilled: 0);
            return new PromptState(cached!, cachedNext, IsNew: false);
        }
        // At least the last prompt token runs through the model: its logits give the first sampled token.
        int reused = Math.Min(shared, promptIds.Length - 1);
        var cache = reused > 0 ? cached!.Select([0], reused) : new KvCache(model.Config.NumHiddenLayers);
        try
        {
            using var scope = NewDisposeScope();
            var suffix = promptIds[reused..].Select(id => (long)id).ToArray();
            var hidden = model.HiddenStates(tensor(suffix, [1, suffix.Length], device: device), cache);
            prefixCache.Record(reused, suffix.Length);
            return new PromptState(cache, LogProbs(hidden.select(1, suffix.Length - 1)), IsNew: true);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    private void Release(int[] promptIds, PromptState prompt)
    {
        if (prompt.IsNew) prefixCache.Retain(promptIds, prompt.Cache, prompt.NextLogProbs);
    }

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
            prefixCache.Dispose();
            if (ownsModel) model.Dispose();
        }
    }
}
