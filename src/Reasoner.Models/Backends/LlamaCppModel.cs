using System.Text;
using LLama;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Reasoner.Models.Backends;

/// <summary>
/// A GGUF model run by llama.cpp in process (LLamaSharp): one model, one context, one request at a time.
/// <para>
/// Sampling: the prompt is evaluated once in sequence 0 and its KV cells are shared with sequences 1..N-1
/// (llama_memory_seq_cp in a unified KV cache: the cells are tagged, not copied); then each step decodes one batch
/// holding the next token of every unfinished sequence. Each sequence has its own llama.cpp sampler chain
/// (temperature, then top-p, then a seeded draw; greedy at temperature 0) seeded from the request's seed and its
/// index, so a request with a seed is reproducible. Temperature is applied before top-p, as HF transformers and vLLM
/// do (llama.cpp's own default chain applies top-p first).
/// </para>
/// <para>
/// Prefix reuse: sequence 0 keeps its cells between requests (the last prompt and the first completion's tokens), so a
/// request whose prompt extends it — a child step's prompt is its parent's prompt plus the chosen step — evaluates
/// only the new tokens. The last prompt token is always evaluated on its own, so a repeated request sees the same logits.
/// </para>
/// <para>
/// Log-probabilities are log-softmax of the raw logits (before temperature and top-p) at the chosen tokens, computed
/// here from the context's logits. Text is tokenized by llama.cpp's tokenizer from the GGUF, without BOS, with special
/// tokens in the text recognised (as <see cref="Tokenization.HfTokenizer.Encode"/>).
/// </para>
/// </summary>
public sealed class LlamaCppModel : ILanguageModel
{
    private readonly LLamaWeights weights;
    private readonly LLamaContext context;
    private readonly LLamaBatch batch = new();
    private readonly SemaphoreSlim gate = new(1, 1);
    // The tokens whose keys/values sequence 0 holds, at positions 0..Count-1.
    private readonly List<int> sequenceZero = [];
    private bool disposed;

    public string ModelId { get; }
    public LlamaCppOptions Options { get; }
    public int VocabSize { get; }

    private LlamaCppModel(string path, LlamaCppOptions options, LLamaWeights weights, LLamaContext context)
    {
        ModelId = path;
        Options = options;
        this.weights = weights;
        this.context = context;
        VocabSize = weights.Vocab.Count;
    }

    /// <param name="logger">Receives llama.cpp's own log lines (warnings and errors); without one they are dropped.</param>
    public static LlamaCppModel Load(string ggufPath, LlamaCppOptions? options = null, ILogger? logger = null)
    {
        if (!File.Exists(ggufPath)) throw new FileNotFoundException($"GGUF model {ggufPath} does not exist", ggufPath);
        options ??= new LlamaCppOptions();
        if (options.MaxSequences < 1 || options.BatchSize < 1 || options.ContextSize < 2)
            throw new ArgumentException("LlamaCppOptions: MaxSequences and BatchSize must be positive and ContextSize at least 2");
        LlamaCppRuntime.Initialize(logger);
        var parameters = options.ToModelParams(ggufPath);
        var weights = LLamaWeights.LoadFromFile(parameters);
        try
        {
            return new LlamaCppModel(ggufPath, options, weights, weights.CreateContext(parameters));
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    internal SafeLLamaContextHandle NativeContext => context.NativeHandle;

    /// <summary>llama.cpp's token ids for <paramref name="text"/>: no BOS, special tokens written in the text become their ids.</summary>
    public int[] Tokenize(string text) =>
        text.Length == 0 ? [] : context.Tokenize(text, addBos: false, special: true).Select(t => (int)t).ToArray();

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (var id in ids) AppendBytes(bytes, id);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default) =>
        RunExclusive(() => Complete(request, cancel), cancel);

    public Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default) =>
        RunExclusive(() => Score(prompt, continuations, cancel), cancel);

    /// <summary>
    /// The logits after every token of <paramref name="tokens"/> evaluated from position 0 ([tokens][vocab]): the
    /// raw forward pass, for comparing engines on the same ids.
    /// </summary>
    public float[][] Logits(IReadOnlyList<int> tokens)
    {
        if (tokens.Count == 0) throw new ArgumentException("no tokens to evaluate", nameof(tokens));
        if (tokens.Count > Options.ContextSize) throw new ArgumentException($"{tokens.Count} tokens exceed the context size {Options.ContextSize}", nameof(tokens));
        gate.Wait();
        try
        {
            var ctx = context.NativeHandle;
            ctx.MemoryClear();
            sequenceZero.Clear();
            var rows = new float[tokens.Count][];
            for (int start = 0; start < tokens.Count; start += Options.BatchSize)
            {
                int end = Math.Min(start + Options.BatchSize, tokens.Count);
                batch.Clear();
                for (int i = start; i < end; i++) batch.Add(tokens[i], i, LLamaSeqId.Zero, true);
                DecodeBatch();
                for (int i = start; i < end; i++) rows[i] = ctx.GetLogitsIth(i - start).ToArray();
                sequenceZero.AddRange(tokens.Skip(start).Take(end - start));
            }
            return rows;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<T> RunExclusive<T>(Func<T> work, CancellationToken cancel)
    {
        await gate.WaitAsync(cancel);
        try
        {
            // llama.cpp computes synchronously; keep the caller's thread free while it does.
            return await Task.Run(work, cancel);
        }
        finally
        {
            gate.Release();
        }
    }

    private IReadOnlyList<Completion> Complete(CompletionRequest request, CancellationToken cancel)
    {
        if (request.N < 1) throw new ArgumentOutOfRangeException(nameof(request), "N must be at least 1");
        if (request.MaxTokens < 1) throw new ArgumentOutOfRangeException(nameof(request), "MaxTokens must be at least 1");
        if (request.N > Options.MaxSequences)
            throw new ArgumentException($"N = {request.N} exceeds the {Options.MaxSequences} sequences this model was loaded with (LlamaCppOptions.MaxSequences)");
        var prompt = TokenizePrompt(request.Prompt);
        long cellsNeeded = prompt.Length + (long)request.N * request.MaxTokens;
        if (cellsNeeded > Options.ContextSize)
            throw new ArgumentException($"prompt ({prompt.Length} tokens) + N × MaxTokens ({request.N} × {request.MaxTokens}) exceed the context size {Options.ContextSize}");

        var ctx = context.NativeHandle;
        EvaluatePrompt(prompt);
        for (int s = 1; s < request.N; s++) ctx.MemorySequenceCopy(LLamaSeqId.Zero, (LLamaSeqId)s, 0, -1);

        var sequences = Enumerable.Range(0, request.N).Select(s => new SampledSequence(s, CreateSampler(request, s), prompt.Length)).ToList();
        try
        {
            var active = sequences;
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                foreach (var seq in active)
                {
                    var logits = ctx.GetLogitsIth(seq.OutputIndex);
                    int token = (int)seq.Sampler.Sample(ctx, seq.OutputIndex);
                    seq.Accept(token, LogSoftmaxAt(logits, token), request, this);
                }
                active = active.Where(s => s.Finish is null).ToList();
                if (active.Count == 0) break;

                batch.Clear();
                foreach (var seq in active)
                {
                    seq.OutputIndex = batch.TokenCount;
                    batch.Add(seq.Tokens[^1], seq.Position, (LLamaSeqId)seq.Id, true);
                    seq.Position++;
                }
                DecodeBatch();
                if (active[0].Id == 0) sequenceZero.Add(active[0].Tokens[^1]);
            }
            return sequences.Select(s => s.ToCompletion()).ToList();
        }
        finally
        {
            foreach (var seq in sequences) seq.Sampler.Dispose();
        }
    }

    private IReadOnlyList<ScoredContinuation> Score(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel)
    {
        var promptTokens = TokenizePrompt(prompt);
        // Each continuation is tokenized on its own and appended, as a sampled step's tokens follow its prompt's.
        var targets = continuations.Select(Tokenize).ToArray();
        var logProbs = targets.Select(t => new double[t.Length]).ToArray();
        var ctx = context.NativeHandle;
        EvaluatePrompt(promptTokens);
        var afterPrompt = ctx.GetLogitsIth(0);
        for (int c = 0; c < targets.Length; c++)
            if (targets[c].Length > 0) logProbs[c][0] = LogSoftmaxAt(afterPrompt, targets[c][0]);

        // The rest of each continuation is evaluated in its own sequence (a copy of the prompt's cells); the logits
        // after its token j give the log-probability of token j + 1. Sequences are filled up to MaxSequences - 1 and the
        // KV cells left free; their tokens are packed into batches of at most BatchSize.
        int next = 0;
        while (next < targets.Length)
        {
            cancel.ThrowIfCancellationRequested();
            var group = new List<int>();
            long cells = promptTokens.Length;
            while (next < targets.Length && group.Count < Options.MaxSequences - 1 && cells + targets[next].Length <= Options.ContextSize)
            {
                cells += targets[next].Length;
                group.Add(next++);
            }
            if (group.Count == 0)
                throw new ArgumentException(Options.MaxSequences < 2
                    ? "scoring needs LlamaCppOptions.MaxSequences of at least 2"
                    : $"prompt ({promptTokens.Length} tokens) + continuation {next} ({targets[next].Length} tokens) exceed the context size {Options.ContextSize}");

            var owners = new List<(int Continuation, int Target)>();
            void DecodeAndRead()
            {
                if (batch.TokenCount == 0) return;
                DecodeBatch();
                for (int i = 0; i < owners.Count; i++)
                {
                    var (c, t) = owners[i];
                    logProbs[c][t] = LogSoftmaxAt(ctx.GetLogitsIth(i), targets[c][t]);
                }
                batch.Clear();
                owners.Clear();
            }
            batch.Clear();
            for (int k = 0; k < group.Count; k++)
            {
                int c = group[k];
                var sequence = (LLamaSeqId)(k + 1);
                ctx.MemorySequenceCopy(LLamaSeqId.Zero, sequence, 0, -1);
                for (int j = 0; j + 1 < targets[c].Length; j++)
                {
                    if (batch.TokenCount == Options.BatchSize) DecodeAndRead();
                    batch.Add(targets[c][j], promptTokens.Length + j, sequence, true);
                    owners.Add((c, j + 1));
                }
            }
            DecodeAndRead();
            for (int k = 0; k < group.Count; k++) ctx.MemorySequenceRemove((LLamaSeqId)(k + 1), 0, -1);
        }
        return continuations.Select((text, c) => new ScoredContinuation(text, targets[c], logProbs[c])).ToList();
    }

    private int[] TokenizePrompt(string prompt)
    {
        var tokens = Tokenize(prompt);
        // Without a BOS token there is nothing to predict the first token from.
        return tokens.Length > 0 ? tokens : throw new ArgumentException("the prompt is empty: llama.cpp needs at least one token to condition on");
    }

    /// <summary>
    /// Leaves sequence 0 holding <paramref name="prompt"/> and the logits after its last token at batch index 0,
    /// reusing the cells of the longest common prefix with what sequence 0 held, and dropping all other sequences.
    /// </summary>
    private void EvaluatePrompt(int[] prompt)
    {
        var ctx = context.NativeHandle;
        ctx.MemorySequenceKeep(LLamaSeqId.Zero);
        int keep = 0;
        while (keep < sequenceZero.Count && keep < prompt.Length - 1 && sequenceZero[keep] == prompt[keep]) keep++;
        ctx.MemorySequenceRemove(LLamaSeqId.Zero, keep, -1);
        sequenceZero.RemoveRange(keep, sequenceZero.Count - keep);

        for (int start = keep; start < prompt.Length - 1; start += Options.BatchSize)
        {
            int end = Math.Min(start + Options.BatchSize, prompt.Length - 1);
            batch.Clear();
            for (int i = start; i < end; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, false);
            DecodeBatch();
            sequenceZero.AddRange(prompt[start..end]);
        }
        batch.Clear();
        batch.Add(prompt[^1], prompt.Length - 1, LLamaSeqId.Zero, true);
        DecodeBatch();
        sequenceZero.Add(prompt[^1]);
    }

    private void DecodeBatch()
    {
        var result = context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            // A failed decode may leave part of the batch in the cache; start the next request from scratch.
            context.NativeHandle.MemoryClear();
            sequenceZero.Clear();
            throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        }
    }

    private SafeLLamaSamplerChainHandle CreateSampler(CompletionRequest request, int index)
    {
        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        if (request.Temperature <= 0)
        {
            chain.AddGreedySampler();
            return chain;
        }
        chain.AddTemperature((float)request.Temperature);
        if (request.TopP < 1) chain.AddTopP((float)request.TopP, 1);
        chain.AddDistributionSampler(SequenceSeed(request.Seed, index));
        return chain;
    }

    /// <summary>A distinct, reproducible seed per sequence (SplitMix64 of seed and index); a random one without a request seed.</summary>
    internal static uint SequenceSeed(long? seed, int index)
    {
        if (seed is null) return (uint)Random.Shared.Next();
        ulong z = unchecked((ulong)seed.Value + 0x9E3779B97F4A7C15UL * (ulong)(index + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        uint s = (uint)(z ^ (z >> 31));
        return s == uint.MaxValue ? 0 : s; // LLAMA_DEFAULT_SEED (0xFFFFFFFF) would mean "pick a random seed"
    }

    internal static double LogSoftmaxAt(ReadOnlySpan<float> logits, int token)
    {
        float max = float.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return logits[token] - max - Math.Log(sum);
    }

    private bool IsEndOfGeneration(int token) => ((LLamaToken)token).IsEndOfGeneration(weights.Vocab);

    private void AppendBytes(List<byte> bytes, int token)
    {
        Span<byte> buffer = stackalloc byte[256];
        int n = (int)weights.NativeHandle.TokenToSpan(token, buffer, 0, true);
        if (n > buffer.Length)
        {
            buffer = new byte[n];
            n = (int)weights.NativeHandle.TokenToSpan(token, buffer, 0, true);
        }
        foreach (var b in buffer[..n]) bytes.Add(b);
    }

    public void Dispose()
    {
        if (disposed) return;
        gate.Wait(); // a request still running uses the context about to be freed
        disposed = true;
        context.Dispose();
        weights.Dispose();
        gate.Dispose();
    }

    /// <summary>One of a request's N sequences while it is sampled.</summary>
    private sealed class SampledSequence(int id, SafeLLamaSamplerChainHandle sampler, int position)
    {
        private readonly List<byte> bytes = [];
        private readonly List<double> logProbs = [];
        private string text = "";

        public int Id { get; } = id;
        public SafeLLamaSamplerChainHandle Sampler { get; } = sampler;
        /// <summary>Position the next decoded token takes.</summary>
        public int Position { get; set; } = position;
        /// <summary>Batch index of the logits this sequence samples from next.</summary>
        public int OutputIndex { get; set; }
        public List<int> Tokens { get; } = [];
        public FinishReason? Finish { get; private set; }

        public void Accept(int token, double logProb, CompletionRequest request, LlamaCppModel model)
        {
            Tokens.Add(token);
            logProbs.Add(logProb);
            // The end-of-sequence token is kept with its log-probability (the probability that the solution ends here)
            // but adds no text.
            if (model.IsEndOfGeneration(token))
            {
                Finish = FinishReason.EndOfSequence;
                return;
            }
            model.AppendBytes(bytes, token);
            text = Encoding.UTF8.GetString(bytes.ToArray());
            int stopAt = request.Stop.Where(s => s.Length > 0).Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
            if (stopAt >= 0)
            {
                // As vLLM: the text ends before the stop string; the tokens include the one that completed it.
                text = text[..stopAt];
                Finish = FinishReason.Stop;
            }
            else if (Tokens.Count >= request.MaxTokens)
            {
                Finish = FinishReason.Length;
            }
        }

        public Completion ToCompletion() => new(text, Tokens, logProbs, Finish ?? FinishReason.Length);
    }
}
