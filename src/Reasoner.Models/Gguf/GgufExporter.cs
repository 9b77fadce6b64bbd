using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;
using static TorchSharp.torch;

namespace Reasoner.Models.Gguf;

public sealed record GgufExportOptions
{
    /// <summary>Type of the matrices; vectors (norms, biases, rope factors) stay F32, as convert_hf_to_gguf.py keeps 1-D tensors.</summary>
    public GgmlType WeightType { get; init; } = GgmlType.F32;

    /// <summary>general.name; null takes the checkpoint folder's name.</summary>
    public string? Name { get; init; }
}

public sealed record GgufExportResult(string Path, string Architecture, int TensorCount, long Bytes);

/// <summary>
/// Writes a Llama / Qwen2 / Qwen3 model of this project (HF layout) as a GGUF file llama.cpp loads, following
/// llama.cpp's convert_hf_to_gguf.py and gguf-py (constants.py, tensor_mapping.py) for key names, value types and
/// tensor names. The GGUF architecture is the HF model_type: "llama", "qwen2" or "qwen3".
/// </summary>
public static class GgufExporter
{
    /// <summary>Loads a checkpoint folder and writes it to <paramref name="outPath"/> (whole or not at all).</summary>
    public static GgufExportResult Export(string checkpointDirectory, string outPath, GgufExportOptions? options = null)
    {
        var checkpoint = CheckpointLoader.Load(checkpointDirectory);
        using var model = checkpoint.Model;
        options ??= new GgufExportOptions();
        options = options with { Name = options.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(checkpointDirectory))) };
        var writer = CreateWriter(model, checkpoint.Tokenizer, options);
        Core.Export.AtomicFile.Write(outPath, stream =>
        {
            writer.Write(stream);
            return 0;
        });
        return new GgufExportResult(outPath, model.Config.ModelType, writer.TensorCount, new FileInfo(outPath).Length);
    }

    /// <summary>The complete GGUF (metadata, tokenizer, tensors) for a model; tensors are read from the model when written.</summary>
    public static GgufWriter CreateWriter(CausalLanguageModel model, HfTokenizer tokenizer, GgufExportOptions options)
    {
        var c = model.Config;
        string arch = ArchitectureOf(c);
        var writer = new GgufWriter();
        writer.Add("general.architecture", arch);
        writer.Add("general.name", options.Name ?? arch);
        // llama_ftype: 0 = ALL_F32, 1 = MOSTLY_F16
        writer.Add("general.file_type", options.WeightType == GgmlType.F16 ? 1u : 0u);
        writer.Add($"{arch}.context_length", (uint)c.MaxPositionEmbeddings);
        writer.Add($"{arch}.embedding_length", (uint)c.HiddenSize);
        writer.Add($"{arch}.block_count", (uint)c.NumHiddenLayers);
        writer.Add($"{arch}.feed_forward_length", (uint)c.IntermediateSize);
        writer.Add($"{arch}.attention.head_count", (uint)c.NumAttentionHeads);
        writer.Add($"{arch}.attention.head_count_kv", (uint)c.NumKeyValueHeads);
        // Written always: llama.cpp otherwise derives the head size as embedding_length / head_count, which Qwen3 breaks.
        writer.Add($"{arch}.attention.key_length", (uint)c.HeadDim);
        writer.Add($"{arch}.attention.value_length", (uint)c.HeadDim);
        writer.Add($"{arch}.attention.layer_norm_rms_epsilon", (float)c.RmsNormEps);
        writer.Add($"{arch}.rope.freq_base", (float)c.RopeTheta);
        writer.Add($"{arch}.rope.dimension_count", (uint)c.HeadDim);
        writer.Add($"{arch}.vocab_size", (uint)c.VocabSize);
        AddRopeScaling(writer, c, arch);
        AddTokenizer(writer, c, tokenizer);
        AddTensors(writer, model, options.WeightType);
        return writer;
    }

    private static string ArchitectureOf(ModelConfig c)
    {
        string arch = c.ModelType;
        if (arch != "llama" && c.MlpBias)
            throw new NotSupportedException($"GGUF export: llama.cpp's {arch} architecture has no MLP biases (mlp_bias is set)");
        if (arch == "qwen3" && c.AttentionBias)
            throw new NotSupportedException("GGUF export: llama.cpp's qwen3 architecture has no attention biases (attention_bias is set)");
        return arch;
    }

    private static void AddRopeScaling(GgufWriter writer, ModelConfig c, string arch)
    {
        string? type = (c.RopeScaling?["rope_type"] ?? c.RopeScaling?["type"])?.GetValue<string>();
        switch (type)
        {
            case null or "default":
                break;
            case "linear":
                writer.Add($"{arch}.rope.scaling.type", "linear");
                writer.Add($"{arch}.rope.scaling.factor", (float)c.RopeScaling!["factor"]!.GetValue<double>());
                break;
            case "llama3" when arch == "llama":
                // convert_hf_to_gguf.py LlamaModel.generate_extra_tensors: the per-frequency divisors as a tensor;
                // llama.cpp divides each rotary frequency by its factor.
                var factors = Llama3RopeFactors(c);
                writer.AddTensor("rope_freqs.weight", [factors.Length], GgmlType.F32, () => factors);
                break;
            default:
                throw new NotSupportedException($"GGUF export: rope_scaling type '{type}' is not supported for {arch}");
        }
    }

    private static float[] Llama3RopeFactors(ModelConfig c)
    {
        var s = c.RopeScaling!;
        double factor = s["factor"]!.GetValue<double>();
        double low = s["low_freq_factor"]!.GetValue<double>(), high = s["high_freq_factor"]!.GetValue<double>();
        double oldContext = s["original_max_position_embeddings"]!.GetValue<double>();
        double lowWavelength = oldContext / low, highWavelength = oldContext / high;
        var factors = new float[c.HeadDim / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            double wavelength = 2 * Math.PI * Math.Pow(c.RopeTheta, 2.0 * i / c.HeadDim);
            double smooth = (oldContext / wavelength - low) / (high - low);
            factors[i] = (float)(wavelength < highWavelength ? 1.0 : wavelength > lowWavelength ? factor : 1.0 / ((1 - smooth) / factor + smooth));
        }
        return factors;
    }

    /// <summary>
    /// Byte-level BPE as llama.cpp's "gpt2" tokenizer model: tokens are the tokenizer.json strings (GPT-2 byte alphabet),
    /// merges are "left right" strings, and tokenizer.ggml.pre names the pre-tokenizer regex, which llama.cpp hard-codes
    /// per name (llama-vocab.cpp) rather than reading it from the file.
    /// </summary>
    private static void AddTokenizer(GgufWriter writer, ModelConfig c, HfTokenizer tokenizer)
    {
        if (tokenizer.VocabSize > c.VocabSize)
            throw new InvalidDataException($"GGUF export: the tokenizer has {tokenizer.VocabSize} tokens but the model's vocab_size is {c.VocabSize}");
        var added = tokenizer.AddedTokens.ToDictionary(a => a.Id);
        var tokens = new string[c.VocabSize];
        var types = new int[c.VocabSize];
        for (int id = 0; id < c.VocabSize; id++)
        {
            // As convert_hf_to_gguf.py get_vocab_base: ids past the tokenizer (embedding rows padded for speed) become
            // unused [PADn] tokens; special added tokens are control tokens, other added tokens user-defined.
            tokens[id] = tokenizer.IdToToken(id) ?? $"[PAD{id}]";
            types[id] = (int)(tokenizer.IdToToken(id) is null ? GgufTokenType.Unused
                : added.TryGetValue(id, out var a) ? a.Special ? GgufTokenType.Control : GgufTokenType.UserDefined
                : GgufTokenType.Normal);
        }
        writer.Add("tokenizer.ggml.model", "gpt2");
        writer.Add("tokenizer.ggml.pre", PreTokenizerName(tokenizer.SplitPattern));
        writer.Add("tokenizer.ggml.tokens", tokens);
        writer.Add("tokenizer.ggml.token_type", types);
        writer.Add("tokenizer.ggml.merges", tokenizer.Merges.ToArray());
        // One EOS id (llama.cpp also ends generation at tokens it recognises as end-of-turn, such as <|im_end|>).
        writer.Add("tokenizer.ggml.eos_token_id", (uint)(c.EosTokenIds.Count > 0 ? c.EosTokenIds[0] : tokenizer.EosId));
        if ((c.BosTokenId ?? tokenizer.BosId) is { } bos) writer.Add("tokenizer.ggml.bos_token_id", (uint)bos);
        if (c.PadTokenId is { } pad) writer.Add("tokenizer.ggml.padding_token_id", (uint)pad);
        // HfTokenizer.Encode adds no BOS/EOS; llama.cpp must not either, or the two would see different ids.
        writer.Add("tokenizer.ggml.add_bos_token", false);
        writer.Add("tokenizer.ggml.add_eos_token", false);
        if (tokenizer.ChatTemplate is { } template) writer.Add("tokenizer.chat_template", template);
    }

    /// <summary>
    /// llama.cpp's name for a split regex. "qwen2" is the Qwen2/Qwen3 regex, which <see cref="ByteLevelBpeTrainer"/>
    /// uses too (llama-vocab.cpp LLAMA_VOCAB_PRE_TYPE_QWEN2: the same alternatives, with the case-insensitive
    /// contractions spelled out). Other regexes are refused rather than exported with a pre-tokenizer that splits differently.
    /// </summary>
    internal static string PreTokenizerName(string splitPattern) => splitPattern switch
    {
        ByteLevelBpeTrainer.SplitPattern => "qwen2",
        _ => throw new NotSupportedException(
            $"GGUF export: no llama.cpp pre-tokenizer is known to match the split regex '{splitPattern}' (supported: the Qwen2/Qwen3 regex; a model pretrained with --keep-whole has its own)"),
    };

    private static void AddTensors(GgufWriter writer, CausalLanguageModel model, GgmlType weightType)
    {
        var c = model.Config;
        foreach (var (hfName, parameter) in model.named_parameters())
        {
            var (name, rotaryHeads) = GgufName(hfName, c);
            var shape = parameter.shape;
            var type = shape.Length == 1 ? GgmlType.F32 : weightType;
            writer.AddTensor(name, shape, type, () =>
            {
                using var noGrad = no_grad();
                using var values = parameter.detach().to(float32).cpu().contiguous();
                var data = values.data<float>().ToArray();
                return rotaryHeads is { } heads ? PermuteForInterleavedRotary(data, shape[0], heads) : data;
            });
        }
    }

    /// <summary>
    /// GGUF tensor name for an HF parameter name (gguf-py tensor_mapping.py), and for Llama's q/k projections the head
    /// count to permute them with. Unknown names fail, so a new parameter cannot be silently dropped from the export.
    /// </summary>
    private static (string Name, int? RotaryHeads) GgufName(string hf, ModelConfig c)
    {
        switch (hf)
        {
            case "model.embed_tokens.weight": return ("token_embd.weight", null);
            case "model.norm.weight": return ("output_norm.weight", null);
            case "lm_head.weight": return ("output.weight", null); // absent when tied: llama.cpp then reuses token_embd
        }
        var parts = hf.Split('.');
        if (parts.Length == 5 && parts[0] == "model" && parts[1] == "layers" && int.TryParse(parts[2], out int layer))
        {
            string module = parts[3], leaf = parts[4];
            string? blockName = module switch
            {
                "input_layernorm" => "attn_norm",
                "post_attention_layernorm" => "ffn_norm",
                _ => null,
            };
            if (blockName is not null) return ($"blk.{layer}.{blockName}.{leaf}", null);
        }
        if (parts.Length == 6 && parts[0] == "model" && parts[1] == "layers" && int.TryParse(parts[2], out layer))
        {
            string leaf = parts[5];
            // llama.cpp's "llama" graph rotates interleaved pairs (2i, 2i+1) where HF's rotate_half pairs (i, i + d/2);
            // qwen2 and qwen3 use the NEOX (rotate_half) layout and take the HF weights as they are.
            bool permute = c.ModelType == "llama";
            (string Name, int? Heads)? mapped = (parts[3], parts[4]) switch
            {
                ("self_attn", "q_proj") => ("attn_q", permute ? c.NumAttentionHeads : null),
                ("self_attn", "k_proj") => ("attn_k", permute ? c.NumKeyValueHeads : null),
                ("self_attn", "v_proj") => ("attn_v", null),
                ("self_attn", "o_proj") => ("attn_output", null),
                ("self_attn", "q_norm") => ("attn_q_norm", null),
                ("self_attn", "k_norm") => ("attn_k_norm", null),
                ("mlp", "gate_proj") => ("ffn_gate", null),
                ("mlp", "up_proj") => ("ffn_up", null),
                ("mlp", "down_proj") => ("ffn_down", null),
                _ => null,
            };
            if (mapped is { } m) return ($"blk.{layer}.{m.Name}.{leaf}", m.Heads);
        }
        throw new NotSupportedException($"GGUF export: no GGUF tensor name for parameter '{hf}'");
    }

    /// <summary>
    /// convert_hf_to_gguf.py LlamaModel.permute: w.reshape(heads, 2, rows / heads / 2, *rest).swapaxes(1, 2).reshape(w.shape).
    /// Within each head, output row s * d/2 + j (the rotate_half halves) moves to row 2j + s (interleaved pairs), so
    /// llama.cpp's pairwise rotation sees the pairs HF rotates. Applies to weights [rows, in] and biases [rows] alike.
    /// </summary>
    internal static float[] PermuteForInterleavedRotary(float[] data, long rows, int heads)
    {
        long columns = data.Length / rows;
        long headDim = rows / heads, half = headDim / 2;
        var result = new float[data.Length];
        for (long h = 0; h < heads; h++)
            for (long j = 0; j < half; j++)
                for (long s = 0; s < 2; s++)
                    Array.Copy(data, (h * headDim + s * half + j) * columns, result, (h * headDim + 2 * j + s) * columns, columns);
        return result;
    }
}
