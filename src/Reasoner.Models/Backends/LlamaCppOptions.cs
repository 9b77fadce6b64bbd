using LLama.Common;
using LLama.Native;

namespace Reasoner.Models.Backends;

/// <summary>How a GGUF model is loaded into llama.cpp (one context per model).</summary>
public sealed record LlamaCppOptions
{
    /// <summary>KV cache cells for all sequences together. The cache is unified, so the prompt's cells are shared by
    /// every sampled sibling: a request needs prompt tokens + N × MaxTokens cells.</summary>
    public int ContextSize { get; init; } = 4096;

    /// <summary>Most tokens one llama_decode call takes (prompt chunks, scored continuations).</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Most sequences alive at once: bounds a request's N (and the continuations scored together).</summary>
    public int MaxSequences { get; init; } = 16;

    /// <summary>CPU threads; null lets llama.cpp choose.</summary>
    public int? Threads { get; init; }

    /// <summary>Layers offloaded to the GPU in a build with the CUDA backend (-p:Gpu=cuda12); the CPU backend ignores it.</summary>
    public int GpuLayerCount { get; init; } = 999;

    /// <summary>
    /// F32 keys and values in the KV cache (llama.cpp's default is F16). F32 keeps log-probabilities within about 1e-5
    /// of the TorchSharp engine's, so scores from the two backends can be compared; F16 halves the cache.
    /// </summary>
    public bool F32KvCache { get; init; } = true;

    /// <summary>
    /// llama.cpp's flash-attention kernel. Its CPU version rounds queries and the attention-weighted values to F16:
    /// measured on the tiny cross-check models, log-probabilities then differ from the TorchSharp engine's by up to
    /// 1.5e-2 instead of 2e-5, so it is off unless asked for (on a GPU it saves memory on long contexts).
    /// </summary>
    public bool FlashAttention { get; init; }

    internal ModelParams ToModelParams(string path) => new(path)
    {
        ContextSize = (uint)ContextSize,
        BatchSize = (uint)BatchSize,
        UBatchSize = (uint)BatchSize,
        SeqMax = (uint)MaxSequences,
        // One cell stream shared by all sequences: copying the prompt to a sibling tags cells instead of copying them.
        KVUnified = true,
        FlashAttention = FlashAttention,
        Threads = Threads,
        BatchThreads = Threads,
        GpuLayerCount = GpuLayerCount,
        TypeK = F32KvCache ? GGMLType.GGML_TYPE_F32 : GGMLType.GGML_TYPE_F16,
        TypeV = F32KvCache ? GGMLType.GGML_TYPE_F32 : GGMLType.GGML_TYPE_F16,
    };
}
