using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reasoner.Models;

// A decoder-only transformer of the Llama / Qwen2 / Qwen3 family, after Hugging Face's modeling_llama.py,
// modeling_qwen2.py and modeling_qwen3.py. Field names are the HF parameter names (TorchSharp names
// parameters after fields), so state dicts map 1:1 onto HF checkpoints: model.embed_tokens.weight,
// model.layers.{i}.self_attn.q_proj.weight, model.layers.{i}.mlp.gate_proj.weight, model.norm.weight, lm_head.weight.
// Field names are snake_case for that reason.

/// <summary>Root-mean-square layer norm (no mean subtraction, no bias), computed in fp32 as HF's LlamaRMSNorm does.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Scalar eps;

    public RmsNorm(long size, double eps) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(size));
        this.eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Every libtorch call costs about as much as a decoding step's arithmetic in it, so fp32 input skips the casts.
        bool isFloat32 = x.dtype == float32;
        var x32 = isFloat32 ? x : x.to(float32);
        // x·x rather than square(): TorchSharp's square is pow with a Scalar of 2 that a collection can free mid-call (KeptScalars).
        var normed = x32 * rsqrt((x32 * x32).mean([-1L], keepdim: true).add(eps, KeptScalars.One));
        return (weight * (isFloat32 ? normed : normed.to(x.dtype))).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) eps.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// Scalars the forward pass passes to libtorch, held for the life of the process. TorchSharp turns a .NET number into a
/// native Scalar that only a finalizer frees, and hands libtorch its handle without keeping the object alive: a garbage
/// collection during the call can free it while libtorch reads it ("Expected false to be true" from Scalar::toFloat,
/// seen in parallel test runs; "INTERNAL ASSERT FAILED at Scalar.h" from pow inside square() in a 1,500-step pretraining run). Every tensor add also builds such a Scalar for its alpha of 1, so the hot path adds
/// with <see cref="Add"/>.
/// </summary>
internal static class KeptScalars
{
    public static readonly Scalar One = 1;

    public static readonly Scalar Zero = 0;

    public static readonly Scalar MinusOne = -1;

    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);
}

/// <summary>
/// The dtype the attention and MLP blocks multiply in, shared by all the model's modules (<see cref="CausalLanguageModel.MatmulDtype"/>).
/// Null: the weights' own dtype. bf16 on an fp32 model is mixed precision in the manner of PyTorch's autocast: a block
/// takes its normed input in bf16 and multiplies by bf16 copies of its weights (gradients flow back to the fp32 weights
/// through the casts); queries, keys and values come back fp32 for rotary and attention (in bf16 both were slower
/// on this project's CPU), SwiGLU runs in bf16, and the block hands fp32 back to the residual stream. Norms, residual
/// stream, logits and loss stay fp32.
/// </summary>
internal sealed class MatmulPrecision
{
    public ScalarType? Dtype { get; set; }

    /// <summary>A block's input in the compute dtype.</summary>
    public Tensor In(Tensor x) => Dtype is { } dtype && dtype != x.dtype ? x.to(dtype) : x;

    /// <summary>A block's output in the residual stream's dtype (reading a dtype is a native call: skipped without mixed precision).</summary>
    public Tensor Out(Tensor y, Tensor residual) => Dtype is not null && y.dtype != residual.dtype ? y.to(residual.dtype) : y;

    /// <summary>A projection of an input already in the compute dtype.</summary>
    public Tensor Linear(Linear linear, Tensor x) => Dtype is { } dtype && dtype != linear.weight!.dtype
        ? nn.functional.linear(x, linear.weight.to(dtype), linear.bias?.to(dtype))
        : linear.call(x);
}

/// <summary>The model's hook for its attention weights (<see cref="CausalLanguageModel.AttentionWeights"/>), shared by its layers.</summary>
internal sealed class AttentionTap
{
    public Action<int, Tensor>? Weights { get; set; }
}

/// <summary>
/// Rotary position embedding, non-interleaved ("rotate_half") convention: dimension i pairs with i + headDim/2.
/// Frequencies follow HF's default / linear / llama3 rope initialisation.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly float[] inverseFrequencies;

    public RotaryEmbedding(ModelConfig config)
    {
        int dim = config.HeadDim;
        var inv = new double[dim / 2];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / dim);
        var scaling = config.RopeScaling;
        string? type = (scaling?["rope_type"] ?? scaling?["type"])?.GetValue<string>();
        if (type == "linear")
        {
            double factor = scaling!["factor"]!.GetValue<double>();
            for (int i = 0; i < inv.Length; i++) inv[i] /= factor;
        }
        else if (type == "llama3")
        {
            // Llama 3.1: keep high frequencies, divide low ones by `factor`, interpolate in between.
            double factor = scaling!["factor"]!.GetValue<double>();
            double low = scaling["low_freq_factor"]!.GetValue<double>(), high = scaling["high_freq_factor"]!.GetValue<double>();
            double oldContext = scaling["original_max_position_embeddings"]!.GetValue<double>();
            double lowWavelength = oldContext / low, highWavelength = oldContext / high;
            for (int i = 0; i < inv.Length; i++)
            {
                double wavelength = 2 * Math.PI / inv[i];
                if (wavelength > lowWavelength) inv[i] /= factor;
                else if (wavelength >= highWavelength)
                {
                    double smooth = (oldContext / wavelength - low) / (high - low);
                    inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                }
            }
        }
        inverseFrequencies = inv.Select(v => (float)v).ToArray();
    }

    /// <summary>
    /// cos and sin tables for positions [B,T], shaped [B,1,T,headDim] to broadcast over heads. The sin table's first half
    /// is negated (see <see cref="Apply"/>).
    /// </summary>
    public (Tensor Cos, Tensor SignedSin) Tables(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var inv = tensor(inverseFrequencies, device: positions.device);
        var angles = positions.to(float32).unsqueeze(-1) * inv;       // [B,T,D/2]
        var sin = angles.sin();
        var cos = cat([angles, angles], -1).cos().unsqueeze(1);         // [B,1,T,D]
        var signedSin = cat([-sin, sin], -1).unsqueeze(1);
        return (cos.to(dtype).MoveToOuterDisposeScope(), signedSin.to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// x·cos + rotate_half(x)·sin, with rotate_half(x) = [−x₂, x₁] written as roll(x, D/2)·[−sin, sin]: three libtorch
    /// calls instead of seven, the same products (negation is exact).
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor signedSin)
    {
        using var scope = NewDisposeScope();
        var swapped = x.roll(x.shape[^1] / 2, -1);
        return (x * cos).addcmul_(swapped, signedSin, KeptScalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>Grouped-query self-attention: numKeyValueHeads K/V heads are shared by groups of query heads.</summary>
public sealed class Attention : nn.Module
{
    private readonly Linear q_proj, k_proj, v_proj, o_proj;
    private readonly RmsNorm? q_norm, k_norm; // Qwen3 normalises each head's q and k before rotary
    private readonly int heads, kvHeads, headDim;
    private readonly MatmulPrecision precision;
    private readonly AttentionTap tap;

    internal Attention(ModelConfig c, MatmulPrecision precision, AttentionTap tap) : base(nameof(Attention))
    {
        this.precision = precision;
        this.tap = tap;
        heads = c.NumAttentionHeads;
        kvHeads = c.NumKeyValueHeads;
        headDim = c.HeadDim;
        q_proj = nn.Linear(c.HiddenSize, heads * headDim, hasBias: c.HasQkvBias);
        k_proj = nn.Linear(c.HiddenSize, kvHeads * headDim, hasBias: c.HasQkvBias);
        v_proj = nn.Linear(c.HiddenSize, kvHeads * headDim, hasBias: c.HasQkvBias);
        o_proj = nn.Linear(heads * headDim, c.HiddenSize, hasBias: c.HasOutputBias);
        if (c.HasQkNorm)
        {
            q_norm = new RmsNorm(headDim, c.RmsNormEps);
            k_norm = new RmsNorm(headDim, c.RmsNormEps);
        }
        RegisterComponents();
    }

    /// <param name="x">[B,T,hidden]</param>
    /// <param name="allowed">[B,1,T,S] bool, true where a query may attend a key (S = cached + new positions); null for plain
    /// causal attention without a cache, which lets libtorch use its fused kernel.</param>
    /// <param name="grouped">Instead of <paramref name="allowed"/> and <paramref name="cache"/>: the tokens of one row
    /// [1,T] from several requests, each attending only to its own row of a <see cref="GroupedKvCache"/>.</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? allowed, KvCache? cache, GroupedAttention? grouped, int layer)
    {
        long b = x.shape[0], t = x.shape[1];
        var residual = x;
        x = precision.In(x);
        var q = precision.Out(precision.Linear(q_proj, x), residual).view(b, t, heads, headDim);
        var k = precision.Out(precision.Linear(k_proj, x), residual).view(b, t, kvHeads, headDim);
        var v = precision.Out(precision.Linear(v_proj, x), residual).view(b, t, kvHeads, headDim).transpose(1, 2);
        if (q_norm is not null) q = q_norm.forward(q);
        if (k_norm is not null) k = k_norm.forward(k);
        q = RotaryEmbedding.Apply(q.transpose(1, 2), cos, sin);
        k = RotaryEmbedding.Apply(k.transpose(1, 2), cos, sin);
        // Projections above and the MLP run once over every request's tokens; the grouped attention scores a token only
        // against its own request's slots.
        var attended = grouped is not null
            ? grouped.Attend(layer, q, k, v, kv => kvHeads == heads ? kv : RepeatKeyValueHeads(kv))
            : Attend(q, k, v, allowed, cache, layer);
        return precision.Out(precision.Linear(o_proj, precision.In(attended.transpose(1, 2).reshape(b, t, heads * headDim))), residual);
    }

    // q [B,H,T,D], k and v [B,kvH,T,D] of the new tokens; appended to the cache when there is one.
    private Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor? allowed, KvCache? cache, int layer)
    {
        if (cache is not null)
            using (StepProfiler.Measure("  of which: KV cache append"))
                (k, v) = cache.Append(layer, k, v);
        if (kvHeads != heads)
        {
            k = RepeatKeyValueHeads(k);
            v = RepeatKeyValueHeads(v);
        }
        if (tap.Weights is { } observe && cache is null) observe(layer, Weights(q, k, allowed));
        using var sdpa = StepProfiler.Measure("  of which: scaled dot-product attention");
        return allowed is null
            ? nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true)
            : nn.functional.scaled_dot_product_attention(q, k, v, allowed); // scale 1/sqrt(headDim)
    }

    // What the fused kernel computes and does not return: softmax(q·kᵀ/√d) under the causal mask or allowed, [B,H,T,S].
    private Tensor Weights(Tensor q, Tensor k, Tensor? allowed)
    {
        using var scope = NewDisposeScope();
        var scores = q.matmul(k.transpose(-2, -1)).mul_(1.0 / Math.Sqrt(headDim));
        var visible = allowed ?? ones(q.shape[2], k.shape[2], ScalarType.Bool, q.device).tril();
        return scores.masked_fill_(visible.logical_not(), double.NegativeInfinity).softmax(-1).MoveToOuterDisposeScope();
    }

    // [B,kvH,S,D] -> [B,H,S,D], each K/V head repeated for its group of query heads (HF repeat_kv).
    private Tensor RepeatKeyValueHeads(Tensor kv)
    {
        long b = kv.shape[0], s = kv.shape[2];
        return kv.unsqueeze(2).expand(b, kvHeads, heads / kvHeads, s, headDim).reshape(b, heads, s, headDim);
    }
}

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) * up(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear gate_proj, up_proj, down_proj;
    private readonly MatmulPrecision precision;

    internal Mlp(ModelConfig c, MatmulPrecision precision) : base(nameof(Mlp))
    {
        this.precision = precision;
        gate_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: c.MlpBias);
        up_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: c.MlpBias);
        down_proj = nn.Linear(c.IntermediateSize, c.HiddenSize, hasBias: c.MlpBias);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var input = precision.In(x);
        var hidden = nn.functional.silu(precision.Linear(gate_proj, input)) * precision.Linear(up_proj, input);
        return precision.Out(precision.Linear(down_proj, hidden), x);
    }
}

/// <summary>Pre-norm decoder layer: x + attn(norm(x)), then x + mlp(norm(x)).</summary>
public sealed class DecoderLayer : nn.Module
{
    private readonly RmsNorm input_layernorm, post_attention_layernorm;
    private readonly Attention self_attn;
    private readonly Mlp mlp;

    internal DecoderLayer(ModelConfig c, MatmulPrecision precision, AttentionTap tap) : base(nameof(DecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        self_attn = new Attention(c, precision, tap);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        mlp = new Mlp(c, precision);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? allowed, KvCache? cache, GroupedAttention? grouped, int layer)
    {
        using (StepProfiler.Measure("model: attention block"))
            x = KeptScalars.Add(x, self_attn.Forward(input_layernorm.forward(x), cos, sin, allowed, cache, grouped, layer));
        using (StepProfiler.Measure("model: MLP block"))
            return KeptScalars.Add(x, mlp.forward(post_attention_layernorm.forward(x)));
    }
}

/// <summary>HF's LlamaModel: embeddings, decoder layers, final norm (the "model." prefix of parameter names).</summary>
public sealed class DecoderStack : nn.Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<DecoderLayer> layers;
    private readonly RmsNorm norm;

    internal DecoderStack(ModelConfig c, MatmulPrecision precision, AttentionTap tap) : base(nameof(DecoderStack))
    {
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize);
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new DecoderLayer(c, precision, tap)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        RegisterComponents();
    }

    public Parameter EmbeddingWeight => embed_tokens.weight!;

    public Tensor Forward(Tensor inputIds, Tensor cos, Tensor sin, Tensor? allowed, KvCache? cache, GroupedAttention? grouped = null)
    {
        Tensor x;
        using (StepProfiler.Measure("model: embedding, final norm"))
            x = embed_tokens.forward(inputIds);
        for (int i = 0; i < layers.Count; i++)
            x = layers[i].Forward(x, cos, sin, allowed, cache, grouped, i);
        using (StepProfiler.Measure("model: embedding, final norm"))
            return norm.forward(x);
    }
}

/// <summary>
/// A causal language model (HF *ForCausalLM): <c>model</c> (<see cref="DecoderStack"/>) plus <c>lm_head</c>,
/// which is absent when <see cref="ModelConfig.TieWordEmbeddings"/> is set (logits then use the embedding matrix,
/// and the state dict, like HF's saved checkpoints, has no lm_head.weight).
/// </summary>
public sealed class CausalLanguageModel : nn.Module
{
    private readonly DecoderStack model;
    private readonly Linear? lm_head;
    private Linear? score;
    private readonly RotaryEmbedding rotary;

    private readonly MatmulPrecision precision = new();
    private readonly AttentionTap tap = new();

    public ModelConfig Config { get; }

    /// <summary>
    /// The dtype the attention and MLP blocks multiply in; null (the default) for the weights' own. <c>BFloat16</c> on an
    /// fp32 model is mixed-precision training (<c>pretrain --matmul bf16</c>): 1.65× faster steps on this project's CPU
    /// (AVX-512 BF16; <c>bench train</c>). Training only: every forward casts the weights, which a decoding step would
    /// pay for without a large product to win it back, so the KV-cache paths refuse it; and LoRA adapters' hooks sit on
    /// the projection modules, which this path calls around.
    /// </summary>
    public ScalarType? MatmulDtype
    {
        get => precision.Dtype;
        set => precision.Dtype = value;
    }

    /// <summary>
    /// Diagnostics: when set, called with each layer's index and attention weights [B,H,T,S] (softmax over the keys each
    /// query may see) in forwards without a KV cache or grouping, before the fused kernel computes the same attention
    /// without returning them. The tensor lives until the forward returns. Null, the default, costs nothing.
    /// </summary>
    public Action<int, Tensor>? AttentionWeights
    {
        get => tap.Weights;
        set => tap.Weights = value;
    }

    /// <summary>A decoder with its language-model head, or, for a scorer config (<see cref="ModelConfig.IsScorer"/>), with a one-output <c>score</c> head instead (HF's …ForTokenClassification, with bias).</summary>
    public CausalLanguageModel(ModelConfig config) : base(nameof(CausalLanguageModel))
    {
        config.Validate();
        Config = config;
        model = new DecoderStack(config, precision, tap);
        if (config.IsScorer) score = nn.Linear(config.HiddenSize, 1, hasBias: true);
        else if (!config.TieWordEmbeddings) lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        rotary = new RotaryEmbedding(config);
        RegisterComponents();
    }

    /// <summary>
    /// A scorer whose decoder starts as <paramref name="policy"/>'s (Tree-PLV's verifier starts from the policy) and whose
    /// head starts as HF initialises it: weights N(0, initializer_range), bias 0.
    /// </summary>
    public static CausalLanguageModel ScorerFrom(CausalLanguageModel policy)
    {
        var scorer = new CausalLanguageModel(policy.Config.AsScorer());
        scorer.InitializeWeights();
        var source = policy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
            foreach (var (name, p) in scorer.named_parameters())
                if (name.StartsWith("model.", StringComparison.Ordinal)) p.copy_(source[name]);
        scorer.to(policy.parameters().First().device);
        return scorer;
    }

    /// <summary>The side file a policy's value head is saved in (OREO): <c>score.weight</c> and <c>score.bias</c>, as a scorer's head.</summary>
    public const string ValueHeadFile = "value_head.safetensors";

    /// <summary>Whether the model has a score head: a scorer's, or a value head attached to a policy.</summary>
    public bool HasScoreHead => score is not null;

    /// <summary>
    /// Gives a policy a value head beside its language-model head (OREO's value V(s) read from the policy's own hidden
    /// states): a linear layer to one output, initialised as HF initialises a classifier head. Attach before building an
    /// optimizer, so the head trains.
    /// </summary>
    public void AttachValueHead()
    {
        if (score is not null) throw new InvalidOperationException("the model already has a score head");
        var head = nn.Linear(Config.HiddenSize, 1, hasBias: true);
        using (no_grad())
        {
            head.weight!.normal_(0.0, Config.InitializerRange);
            head.bias!.zero_();
        }
        head.to(model.EmbeddingWeight.device);
        score = head;
        register_module("score", head);
    }

    /// <summary>The scorer's value at every position, [B,T], from final hidden states [B,T,hidden].</summary>
    public Tensor Scores(Tensor hidden) =>
        (score ?? throw new InvalidOperationException("this model has no score head; load a scorer (…ForTokenClassification)")).forward(hidden).squeeze(-1);

    /// <summary>
    /// Logits [B,T,V] for new tokens <paramref name="inputIds"/> [B,T] (int64).
    /// With a <paramref name="cache"/>, the tokens continue the cached rows: their keys/values are appended to it
    /// and they attend to everything cached (this runs without autograd). Without one, this is a plain
    /// full-sequence causal forward, the one training uses.
    /// </summary>
    /// <param name="positions">[B,T] rotary positions; null derives them from the tokens each row already holds
    /// plus the count of real (unmasked) new tokens before each one, so left padding does not shift positions.</param>
    /// <param name="attentionMask">[B,T] for the new tokens only (1/true = real token, 0/false = padding); the cache
    /// remembers which of its slots are padding. Null means all new tokens are real.</param>
    public Tensor Forward(Tensor inputIds, KvCache? cache = null, Tensor? positions = null, Tensor? attentionMask = null)
    {
        using var scope = NewDisposeScope();
        return Logits(HiddenStates(inputIds, cache, positions, attentionMask)).MoveToOuterDisposeScope();
    }

    /// <summary>Final-norm hidden states [B,T,hidden] (the input of lm_head; value and reward heads read these).</summary>
    public Tensor HiddenStates(Tensor inputIds, KvCache? cache = null, Tensor? positions = null, Tensor? attentionMask = null)
    {
        if (inputIds.dim() != 2) throw new ArgumentException($"inputIds must be [batch, tokens], got [{string.Join(", ", inputIds.shape)}]");
        using var noGrad = cache is null ? null : no_grad();
        using var scope = NewDisposeScope();
        long b = inputIds.shape[0], t = inputIds.shape[1];
        var device = inputIds.device;
        long past = cache?.Length ?? 0;
        if (cache is not null) RefuseMixedPrecision();
        if (cache is { BatchSize: > 0 } && cache.BatchSize != b)
            throw new ArgumentException($"inputIds has {b} rows but the cache holds {cache.BatchSize}");

        var prepared = StepProfiler.Measure("model: positions, masks, rotary tables");
        var newIsToken = attentionMask?.to(ScalarType.Bool) ?? ones(b, t, ScalarType.Bool, device);
        var pastRowLengths = cache is { Length: > 0 } ? cache.RowLengths : zeros(b, ScalarType.Int64, device);
        positions ??= KeptScalars.Add(pastRowLengths.unsqueeze(1), newIsToken.to(ScalarType.Int64).cumsum(1)).add(KeptScalars.MinusOne, KeptScalars.One).clamp_min(KeptScalars.Zero);
        var keyIsToken = cache is { Length: > 0 } ? cat([cache.TokenMask, newIsToken], 1) : newIsToken; // [B,S]

        // Query i sits at slot past+i; it may see real tokens at slots <= its own. It always sees itself, so a
        // padding query (which nothing else attends to) has a non-empty softmax instead of NaN.
        var keySlot = arange(past + t, device: device).unsqueeze(0);             // [1,S]
        var querySlot = arange(past, past + t, device: device).unsqueeze(1);     // [T,1]
        var allowed = ((keySlot <= querySlot).unsqueeze(0) & keyIsToken.unsqueeze(1)) | (keySlot == querySlot).unsqueeze(0);

        var (cos, sin) = rotary.Tables(positions, model.EmbeddingWeight.dtype);
        var allowedHeads = allowed.unsqueeze(1);
        prepared.Dispose();
        var hidden = model.Forward(inputIds, cos, sin, allowedHeads, cache);
        using (StepProfiler.Measure("model: cache bookkeeping"))
            cache?.Commit(newIsToken);
        return hidden.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Final-norm hidden states [1,T,hidden] of one row of tokens from several independent requests, laid out by
    /// <paramref name="attention"/> (<see cref="GroupedKvCache.Plan"/>): each request's tokens attend to its own row of
    /// the grouped cache under its mask and are appended to it. Projections and MLP run once over all T tokens. Runs
    /// without autograd.
    /// </summary>
    /// <param name="positions">[1,T] rotary positions.</param>
    public Tensor HiddenStatesGrouped(Tensor inputIds, Tensor positions, GroupedAttention attention)
    {
        if (inputIds.dim() != 2 || inputIds.shape[0] != 1) throw new ArgumentException($"inputIds must be one row [1, tokens], got [{string.Join(", ", inputIds.shape)}]");
        if (inputIds.shape[1] != attention.Tokens) throw new ArgumentException($"the attention plan covers {attention.Tokens} tokens, not {inputIds.shape[1]}");
        RefuseMixedPrecision();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor cos, sin;
        using (StepProfiler.Measure("model: positions, masks, rotary tables"))
            (cos, sin) = rotary.Tables(positions, model.EmbeddingWeight.dtype);
        var hidden = model.Forward(inputIds, cos, sin, null, null, attention);
        using (StepProfiler.Measure("model: cache bookkeeping"))
            attention.Commit();
        return hidden.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits [B,T,V] of rows that are right-padded or not padded at all, as training batches are: plain causal attention
    /// at positions 0…T−1, with no mask to build. Padding sits after every real token of its row, so no real token ever
    /// sees it, and real tokens get exactly the logits <see cref="Forward"/> gives them with the padding mask.
    /// </summary>
    public Tensor ForwardRightPadded(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        return Logits(HiddenStatesRightPadded(inputIds)).MoveToOuterDisposeScope();
    }

    /// <summary>Final-norm hidden states [B,T,hidden] of right-padded rows (see <see cref="ForwardRightPadded"/>).</summary>
    public Tensor HiddenStatesRightPadded(Tensor inputIds)
    {
        if (inputIds.dim() != 2) throw new ArgumentException($"inputIds must be [batch, tokens], got [{string.Join(", ", inputIds.shape)}]");
        using var scope = NewDisposeScope();
        var positions = arange(inputIds.shape[1], device: inputIds.device).unsqueeze(0).expand(inputIds.shape[0], -1);
        var (cos, sin) = rotary.Tables(positions, model.EmbeddingWeight.dtype);
        return model.Forward(inputIds, cos, sin, null, null).MoveToOuterDisposeScope();
    }

    private void RefuseMixedPrecision()
    {
        if (precision.Dtype is { } dtype && dtype != model.EmbeddingWeight.dtype)
            throw new InvalidOperationException($"MatmulDtype {dtype} is for training (each forward casts the weights); set it to null before decoding with a KV cache");
    }

    public Tensor Logits(Tensor hidden) =>
        Config.IsScorer ? throw new InvalidOperationException("a scorer has no language-model head; it gives Scores, not logits")
        : lm_head is null ? nn.functional.linear(hidden, model.EmbeddingWeight) : lm_head.forward(hidden);

    /// <summary>HF's _init_weights for these models: N(0, initializer_range) for linear and embedding weights, zero biases, unit norms.</summary>
    /// <param name="generator">Where the random weights come from; libtorch's global generator when null. A generator of
    /// its own makes the weights independent of whatever else draws from the global one (tests running in parallel).</param>
    public void InitializeWeights(Generator? generator = null)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight")) p.fill_(1.0);
            else if (name.EndsWith(".bias")) p.zero_();
            else p.normal_(0.0, Config.InitializerRange, generator);
        }
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());
}
