using System.Diagnostics;
using LLama.Native;

namespace Reasoner.Models.Backends;

/// <summary>One timed greedy generation: <see cref="Sequences"/> copies of a prompt, then <see cref="NewTokens"/> decode steps.</summary>
public sealed record LlamaCppBenchResult(int PromptTokens, int NewTokens, int Sequences, TimeSpan Prefill, TimeSpan Decode)
{
    public TimeSpan Total => Prefill + Decode;

    /// <summary>Prompt tokens processed per second (all sequences' copies counted).</summary>
    public double PrefillTokensPerSecond => Sequences * PromptTokens / Prefill.TotalSeconds;

    /// <summary>Generated tokens per second of the decode loop alone (all sequences counted).</summary>
    public double DecodeTokensPerSecond => Sequences * NewTokens / Decode.TotalSeconds;

    /// <summary>Generated tokens per second including the prefill: end-to-end generation throughput.</summary>
    public double TokensPerSecond => Sequences * NewTokens / Total.TotalSeconds;
}

/// <summary>
/// Times llama.cpp on a GGUF file doing what a plain batched decode loop does, so it can stand next to the TorchSharp
/// engine's numbers on the same exported model, prompts and lengths: a prefill of the prompt for each of k sequences
/// in one batch (k × prompt tokens, as a [k, T] forward; the prompt's cells are not shared, unlike in
/// <see cref="LlamaCppModel"/>), then <c>newTokens</c> steps that each take the argmax of every sequence's logits and
/// decode those k tokens as one batch. No sampling, no stop conditions, no early end at EOS.
/// </summary>
public static class LlamaCppBench
{
    /// <param name="repeats">Timed runs after one untimed warm-up; the fastest (by total time) is returned.</param>
    public static LlamaCppBenchResult MeasureTokensPerSecond(string ggufPath, IReadOnlyList<int> promptTokenIds, int newTokens, int k = 1,
        LlamaCppOptions? options = null, int repeats = 1)
    {
        if (promptTokenIds.Count == 0) throw new ArgumentException("the prompt needs at least one token", nameof(promptTokenIds));
        if (newTokens < 1 || k < 1 || repeats < 1) throw new ArgumentOutOfRangeException(nameof(newTokens), "newTokens, k and repeats must be positive");
        options ??= new LlamaCppOptions();
        int prefillTokens = k * promptTokenIds.Count;
        options = options with
        {
            BatchSize = Math.Max(options.BatchSize, prefillTokens),
            ContextSize = Math.Max(options.ContextSize, k * (promptTokenIds.Count + newTokens)),
            MaxSequences = Math.Max(options.MaxSequences, k),
        };
        using var model = LlamaCppModel.Load(ggufPath, options);
        Run(model, promptTokenIds, Math.Min(newTokens, 2), k);
        return Enumerable.Range(0, repeats).Select(_ => Run(model, promptTokenIds, newTokens, k)).MinBy(r => r.Total)!;
    }

    private static LlamaCppBenchResult Run(LlamaCppModel model, IReadOnlyList<int> prompt, int newTokens, int k)
    {
        var ctx = model.NativeContext;
        ctx.MemoryClear();
        var batch = new LLamaBatch();
        var outputIndex = new int[k];
        for (int s = 0; s < k; s++)
        {
            for (int i = 0; i < prompt.Count; i++) batch.Add(prompt[i], i, (LLamaSeqId)s, i == prompt.Count - 1);
            outputIndex[s] = batch.TokenCount - 1;
        }
        var clock = Stopwatch.StartNew();
        Decode(ctx, batch);
        var prefill = clock.Elapsed;

        clock.Restart();
        for (int step = 0; step < newTokens; step++)
        {
            var next = new int[k];
            for (int s = 0; s < k; s++) next[s] = ArgMax(ctx.GetLogitsIth(outputIndex[s]));
            batch.Clear();
            for (int s = 0; s < k; s++)
            {
                outputIndex[s] = batch.TokenCount;
                batch.Add(next[s], prompt.Count + step, (LLamaSeqId)s, true);
            }
            Decode(ctx, batch);
        }
        return new LlamaCppBenchResult(prompt.Count, newTokens, k, prefill, clock.Elapsed);
    }

    private static void Decode(SafeLLamaContextHandle ctx, LLamaBatch batch)
    {
        var result = ctx.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {result}");
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
}
