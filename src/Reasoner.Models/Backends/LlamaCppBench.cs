using System.Diagnostics;
using LLama.Native;

namespace Reasoner.Models.Backends;

/// <summary>One timed greedy generation: <see cref="Sequences"/> copies of a prompt, then <see cref="NewTokens"/> decode steps.</summary>
public sealed record LlamaCppBenchResult(int PromptTokens, int NewTokens, int Sequences, TimeSpan Prefill, TimeSpan Decode)
{
    /// <summary>The greedy tokens of each sequence: both prefill modes must give the same ones.</summary>
    public IReadOnlyList<int[]> Tokens { get; init; } = [];

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
/// engine's numbers on the same exported model, prompts and lengths, then <c>newTokens</c> steps that each take the
/// argmax of every sequence's logits and decode those k tokens as one batch. No sampling, no stop conditions, no early
/// end at EOS. The prompt reaches the k sequences in one of two ways: <see cref="LlamaCppPrefill.Shared"/>, llama.cpp at its
/// best for siblings (prefill once, then <c>llama_memory_seq_cp</c> the prompt's cache to the other k − 1 sequences,
/// as <see cref="LlamaCppModel"/> does), or <see cref="LlamaCppPrefill.PerSequence"/> (k copies of the prompt in one
/// [k, T] batch, the prompt's cells not shared).
/// </summary>
public enum LlamaCppPrefill
{
    /// <summary>The prompt decoded once in sequence 0, its cache copied to every other sequence.</summary>
    Shared,

    /// <summary>The prompt decoded once per sequence, k copies in one batch.</summary>
    PerSequence,
}

public static class LlamaCppBench
{
    /// <param name="repeats">Timed runs after one untimed warm-up; the fastest (by total time) is returned.</param>
    public static LlamaCppBenchResult MeasureTokensPerSecond(string ggufPath, IReadOnlyList<int> promptTokenIds, int newTokens, int k = 1,
        LlamaCppOptions? options = null, int repeats = 1, LlamaCppPrefill prefill = LlamaCppPrefill.Shared)
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
        Run(model, promptTokenIds, Math.Min(newTokens, 2), k, prefill);
        return Enumerable.Range(0, repeats).Select(_ => Run(model, promptTokenIds, newTokens, k, prefill)).MinBy(r => r.Total)!;
    }

    private static LlamaCppBenchResult Run(LlamaCppModel model, IReadOnlyList<int> prompt, int newTokens, int k, LlamaCppPrefill mode)
    {
        var ctx = model.NativeContext;
        ctx.MemoryClear();
        var batch = new LLamaBatch();
        var outputIndex = new int[k];
        var clock = Stopwatch.StartNew();
        if (mode == LlamaCppPrefill.Shared)
        {
            for (int i = 0; i < prompt.Count; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
            Decode(ctx, batch);
            // Every sequence starts from the one prefill: same cells, same last logits.
            for (int s = 1; s < k; s++) ctx.MemorySequenceCopy(LLamaSeqId.Zero, (LLamaSeqId)s, 0, -1);
            Array.Fill(outputIndex, batch.TokenCount - 1);
        }
        else
        {
            for (int s = 0; s < k; s++)
            {
                for (int i = 0; i < prompt.Count; i++) batch.Add(prompt[i], i, (LLamaSeqId)s, i == prompt.Count - 1);
                outputIndex[s] = batch.TokenCount - 1;
            }
            Decode(ctx, batch);
        }
        var prefill = clock.Elapsed;

        clock.Restart();
        var tokens = Enumerable.Range(0, k).Select(_ => new int[newTokens]).ToArray();
        for (int step = 0; step < newTokens; step++)
        {
            var next = new int[k];
            for (int s = 0; s < k; s++) tokens[s][step] = next[s] = ArgMax(ctx.GetLogitsIth(outputIndex[s]));
            batch.Clear();
            for (int s = 0; s < k; s++)
            {
                outputIndex[s] = batch.TokenCount;
                batch.Add(next[s], prompt.Count + step, (LLamaSeqId)s, true);
            }
            Decode(ctx, batch);
        }
        return new LlamaCppBenchResult(prompt.Count, newTokens, k, prefill, clock.Elapsed) { Tokens = tokens };
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
