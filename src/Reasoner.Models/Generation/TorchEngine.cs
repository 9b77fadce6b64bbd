using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;
using static TorchSharp.torch;

namespace Reasoner.Models.Generation;

/// <summary>
/// The in-process <see cref="ILanguageModel"/>: a <see cref="CausalLanguageModel"/> with a KV cache.
/// <list type="bullet">
/// <item>Prefix forking: a request's prompt is prefilled once, at batch 1, and its N rows decode after it in one
/// cache row with a tree-shaped attention mask (<see cref="SiblingBatch"/>): the prompt's keys and values are
/// neither copied per row nor read once per row.</item>
/// <item>Prefix cache: recent prompts' caches are kept (<see cref="PrefixCache"/>), so a prompt that extends an
/// earlier one — a child node's prompt is its parent's plus the parent's step — prefills only the new tokens.</item>
/// <item>Batched sampling: all unfinished rows decode in one forward per token; a row that finishes is no longer fed.</item>
/// <item>Seeds: every row draws from its own generator seeded by (request seed, row index), so a seeded request
/// gives the same completions whatever the engine did before; a prefix-cache hit changes the logits by fp32 rounding only.</item>
/// <item>Token log-probabilities are log-softmax of the untempered logits over the whole model vocabulary: the
/// model's own probabilities, which search uses as priors. Sampling draws only among ids the tokenizer can decode.</item>
/// </list>
/// Requests run one at a time under a lock (the model and the prefix cache are not shared between threads);
/// concurrent callers queue. After the model's weights change (training), call <see cref="ClearPrefixCache"/>.
/// </summary>
public sealed class TorchEngine : ILanguageModel, IContextWindow
{
    private readonly CausalLanguageModel model;
    private readonly bool ownsModel;
    private readonly Device device;
    private readonly PrefixCache prefixCache;
    private readonly IReadOnlySet<int> endOfSequence;
    private readonly int vocabulary, decodableVocabulary;
    private readonly SemaphoreSlim gate = new(1, 1);
    private bool disposed;

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

    /// <summary>Test hook: called with (row, log-probabilities over the vocabulary) before each token of a row is drawn.</summary>
    internal Action<int, float[]>? LogProbsObserved { get; set; }

    /// <summary>Drops every cached prompt; needed after the weights change, since cached keys/values came from the old ones.</summary>
    public void ClearPrefixCache()
    {
        gate.Wait();
        try { prefixCache.Clear(); }
        finally { gate.Release(); }
    }

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
    {
        Validate(request);
        return RunExclusive(() => Complete(request, cancel), cancel);
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
        if (promptIds.Length > 0) logProbs = await RunExclusive(() => Score(promptIds, continuationIds, cancel), cancel);
        else
        {
            // Nothing to condition on (an empty prompt and no BOS token, as in Qwen and the built-in model): a text's
            // first token is the context of the rest and has no probability itself, NaN here and null in OpenAI's echo.
            var scored = new List<double[]>();
            foreach (var ids in continuationIds)
            {
                var rest = ids.Count > 1 ? (await RunExclusive(() => Score([ids[0]], [ids.Skip(1).ToArray()], cancel), cancel))[0] : [];
                scored.Add(ids.Count == 0 ? [] : [double.NaN, .. rest]);
            }
            logProbs = scored;
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
        return RunExclusive(() => Score(promptIds.ToArray(), continuations, cancel), cancel);
    }

    private async Task<T> RunExclusive<T>(Func<T> work, CancellationToken cancel)
    {
        await gate.WaitAsync(cancel);
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            // Off the caller's thread: a request is hundreds of milliseconds of tensor work.
            return await Task.Run(work, cancel);
        }
        finally
        {
            gate.Release();
        }
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

    private IReadOnlyList<Completion> Complete(CompletionRequest request, CancellationToken cancel)
    {
        var promptIds = EncodePrompt(request.Prompt);
        long seed = request.Seed ?? Random.Shared.NextInt64();
        var sampler = new TokenSampler(request.Temperature, request.TopP);
        var rows = Enumerable.Range(0, request.N)
            .Select(i => new SampledRow(Tokenizer, RowRandom(seed, i), request.Stop, endOfSequence, request.MaxTokens))
            .ToArray();
        using var noGrad = no_grad();

        // Every row's first token comes from the prompt's last position; the rows that go on then decode together.
        var prompt = Prefill(promptIds);
        var active = new List<int>();
        SiblingBatch? batch = null;
        try
        {
            for (int row = 0; row < rows.Length; row++)
                if (!Draw(sampler, rows[row], row, prompt.NextLogProbs)) active.Add(row);
            if (active.Count > 0) batch = new SiblingBatch(prompt.Cache.Select([0]), rows.Length);
        }
        finally
        {
            Release(promptIds, prompt);
        }

        try
        {
            while (active.Count > 0)
            {
                cancel.ThrowIfCancellationRequested();
                float[] logProbs;
                using (NewDisposeScope())
                    logProbs = LogProbs(batch!.Step(model, active, active.Select(row => rows[row].LastToken).ToArray(), device));
                // Finished rows stop being fed; their slots stay in the batch, masked.
                var next = new List<int>();
                for (int slot = 0; slot < active.Count; slot++)
                    if (!Draw(sampler, rows[active[slot]], active[slot], logProbs.AsSpan(slot * vocabulary, vocabulary))) next.Add(active[slot]);
                active = next;
            }
        }
        finally
        {
            batch?.Dispose();
        }
        return rows.Select(r => r.ToCompletion()).ToArray();
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
    /// The prompt is prefilled once (through the prefix cache); the continuations then run as one right-padded
    /// batch on copies of its cache. A continuation's first token is scored by the prompt's last position, token j
    /// by the continuation's position j-1, so the last token itself need not be fed.
    /// </summary>
    private IReadOnlyList<double[]> Score(int[] promptIds, IReadOnlyList<IReadOnlyList<int>> continuations, CancellationToken cancel)
    {
        var results = continuations.Select(c => new double[c.Count]).ToArray();
        using var noGrad = no_grad();
        var prompt = Prefill(promptIds);
        try
        {
            for (int i = 0; i < continuations.Count; i++)
                if (continuations[i].Count > 0) results[i][0] = prompt.NextLogProbs[continuations[i][0]];
            var longer = Enumerable.Range(0, continuations.Count).Where(i => continuations[i].Count > 1).ToArray();
            if (longer.Length == 0) return results;
            cancel.ThrowIfCancellationRequested();

            int width = longer.Max(i => continuations[i].Count - 1);
            var ids = new long[longer.Length * width];
            var isToken = new bool[longer.Length * width];
            for (int r = 0; r < longer.Length; r++)
                for (int j = 0; j < continuations[longer[r]].Count - 1; j++)
                {
                    ids[r * width + j] = continuations[longer[r]][j];
                    isToken[r * width + j] = true;
                }

            using var scope = NewDisposeScope();
            using var batch = prompt.Cache.Select(new long[longer.Length]);
            var hidden = model.HiddenStates(tensor(ids, [longer.Length, width], device: device), batch,
                attentionMask: tensor(isToken, [longer.Length, width], device: device));
            for (int r = 0; r < longer.Length; r++)
            {
                var continuation = continuations[longer[r]];
                int fed = continuation.Count - 1;
                var targets = tensor(continuation.Skip(1).Select(id => (long)id).ToArray(), [fed, 1], device: device);
                // One row's logits at a time: [tokens, vocabulary] for the whole batch could be gigabytes for a 150k vocabulary.
                var chosen = model.Logits(hidden[r].narrow(0, 0, fed)).to(ScalarType.Float32).log_softmax(-1).gather(1, targets);
                var values = chosen.cpu().data<float>().ToArray();
                for (int j = 0; j < fed; j++) results[longer[r]][j + 1] = values[j];
            }
            return results;
        }
        finally
        {
            Release(promptIds, prompt);
        }
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
        gate.Wait();
        try
        {
            if (disposed) return;
            disposed = true;
            prefixCache.Dispose();
            if (ownsModel) model.Dispose();
        }
        finally
        {
            gate.Release();
        }
    }
}
