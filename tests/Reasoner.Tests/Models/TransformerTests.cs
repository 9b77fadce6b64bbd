using Reasoner.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

public class TransformerTests
{
    [Fact]
    public void ParameterNamesAreHuggingFaceNames()
    {
        using var model = TinyModels.Create(TinyModels.Config("qwen3", tied: false) with { NumHiddenLayers = 1 });
        string[] expected =
        [
            "model.embed_tokens.weight",
            "model.layers.0.input_layernorm.weight",
            "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
            "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
            "model.layers.0.self_attn.q_norm.weight", "model.layers.0.self_attn.k_norm.weight",
            "model.layers.0.post_attention_layernorm.weight",
            "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
            "model.norm.weight", "lm_head.weight",
        ];
        Assert.Equal(expected.Order(), model.state_dict().Keys.Order());
        Assert.Equal([64L, 32L], model.state_dict()["model.layers.0.self_attn.q_proj.weight"].shape); // 4 heads x head_dim 16
    }

    /// <summary>
    /// The TorchSharp forward equals a loop-by-loop transcription of HF's Llama/Qwen2/Qwen3 equations in doubles
    /// (RMSNorm, rotate_half rotary, grouped-query causal attention, SwiGLU, tied or untied head).
    /// </summary>
    [Theory]
    [InlineData("llama", true)]
    [InlineData("qwen2", false)]
    [InlineData("qwen3", true)]
    public void ForwardMatchesAPlainLoopReference(string modelType, bool tied)
    {
        var config = TinyModels.Config(modelType, tied);
        using var model = TinyModels.Create(config);
        long[] tokens = [5, 17, 42, 8, 99, 3];
        float[] actual;
        using (no_grad()) actual = model.Forward(tensor(tokens, [1, tokens.Length])).data<float>().ToArray();

        var expected = ReferenceForward(config, model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray()), tokens);
        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-4, $"max |difference| {worst}");
    }

    /// <summary>
    /// The attention tap (eval --attention's probe) hands over each layer's softmax weights as the plain-loop reference
    /// computes them, grouped K/V heads and causal mask included, and the forward's logits stay what they were.
    /// </summary>
    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void TheAttentionTapSeesEachHeadsWeightsAndChangesNothing(string modelType)
    {
        var config = TinyModels.Config(modelType);
        using var model = TinyModels.Create(config);
        long[] tokens = [5, 17, 42, 8, 99, 3];
        int t = tokens.Length;
        var expected = new double[config.NumHiddenLayers, config.NumAttentionHeads, t, t];
        ReferenceForward(config, model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray()), tokens, expected);
        using var noGrad = no_grad();
        using var input = tensor(tokens, [1, t]);
        using var plain = model.ForwardRightPadded(input);

        var seen = new List<(int Layer, long[] Shape, float[] Weights)>();
        model.AttentionWeights = (layer, weights) => seen.Add((layer, weights.shape, weights.data<float>().ToArray()));
        using var tapped = model.ForwardRightPadded(input);
        model.AttentionWeights = null;
        using var untapped = model.ForwardRightPadded(input);

        Assert.Equal(Enumerable.Range(0, config.NumHiddenLayers), seen.Select(s => s.Layer));
        Assert.Equal(plain.data<float>().ToArray(), tapped.data<float>().ToArray());
        Assert.Equal(plain.data<float>().ToArray(), untapped.data<float>().ToArray());
        foreach (var (layer, shape, weights) in seen)
        {
            Assert.Equal([1L, config.NumAttentionHeads, t, t], shape);
            for (int head = 0; head < config.NumAttentionHeads; head++)
                for (int i = 0; i < t; i++)
                    for (int j = 0; j < t; j++)
                        Assert.True(Math.Abs(weights[(head * t + i) * t + j] - expected[layer, head, i, j]) < 1e-5,
                            $"layer {layer} head {head} query {i} key {j}: {weights[(head * t + i) * t + j]} against {expected[layer, head, i, j]}");
        }
        Assert.True(expected[0, 0, 2, 0] > 0 && expected[0, 0, 2, 3] == 0, "the reference weighs earlier keys only");
    }

    /// <summary>Training's mask-free causal forward gives real tokens of right-padded rows the logits the masked forward gives them.</summary>
    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void RightPaddedForwardEqualsTheMaskedForwardOnRealTokens(string modelType)
    {
        using var model = TinyModels.Create(TinyModels.Config(modelType));
        // Row 0: six tokens; row 1: four tokens, then two pads (id 0).
        var input = tensor(new long[] { 5, 17, 42, 8, 99, 3, 21, 22, 23, 24, 0, 0 }, [2, 6]);
        var mask = tensor(new[] { true, true, true, true, true, true, true, true, true, true, false, false }, [2, 6]);
        using var noGrad = no_grad();
        var masked = model.Forward(input, attentionMask: mask);
        var causal = model.ForwardRightPadded(input);
        double worstFull = (masked[0] - causal[0]).abs().max().item<float>();
        double worstReal = (masked[1].narrow(0, 0, 4) - causal[1].narrow(0, 0, 4)).abs().max().item<float>();
        Assert.True(worstFull < 1e-5 && worstReal < 1e-5, $"{worstFull} {worstReal}");
    }

    /// <param name="attention">When given, [layer, head, query, key] receives each head's softmax weights.</param>
    private static double[] ReferenceForward(ModelConfig c, Dictionary<string, float[]> w, long[] tokens, double[,,,]? attention = null)
    {
        int t = tokens.Length, hidden = c.HiddenSize, heads = c.NumAttentionHeads, kvHeads = c.NumKeyValueHeads, d = c.HeadDim;
        double[][] Linear(double[][] x, string name, int outSize)
        {
            var weight = w[name + ".weight"];
            w.TryGetValue(name + ".bias", out var bias);
            int inSize = x[0].Length;
            return x.Select(row => Enumerable.Range(0, outSize).Select(o =>
                (bias?[o] ?? 0) + Enumerable.Range(0, inSize).Sum(i => (double)weight[o * inSize + i] * row[i])).ToArray()).ToArray();
        }
        double[] Norm(double[] x, float[] weight, int offset = 0)
        {
            double rms = Math.Sqrt(x.Sum(v => v * v) / x.Length + c.RmsNormEps);
            return x.Select((v, i) => v / rms * weight[offset + i]).ToArray();
        }
        double[] Rotate(double[] x, int position)
        {
            var r = new double[d];
            for (int i = 0; i < d / 2; i++)
            {
                double angle = position * Math.Pow(c.RopeTheta, -2.0 * i / d), cos = Math.Cos(angle), sin = Math.Sin(angle);
                r[i] = x[i] * cos - x[i + d / 2] * sin;
                r[i + d / 2] = x[i + d / 2] * cos + x[i] * sin;
            }
            return r;
        }
        double[] Head(double[] row, int head) => row.Skip(head * d).Take(d).ToArray();

        var embed = w["model.embed_tokens.weight"];
        var h = tokens.Select(tok => Enumerable.Range(0, hidden).Select(i => (double)embed[tok * hidden + i]).ToArray()).ToArray();
        for (int l = 0; l < c.NumHiddenLayers; l++)
        {
            string p = $"model.layers.{l}.";
            var x = h.Select(row => Norm(row, w[p + "input_layernorm.weight"])).ToArray();
            var q = Linear(x, p + "self_attn.q_proj", heads * d);
            var k = Linear(x, p + "self_attn.k_proj", kvHeads * d);
            var v = Linear(x, p + "self_attn.v_proj", kvHeads * d);
            double[] Prepare(double[] row, int head, string norm, int pos)
            {
                var vec = Head(row, head);
                if (c.HasQkNorm) vec = Norm(vec, w[p + norm]);
                return Rotate(vec, pos);
            }
            var attended = new double[t][];
            for (int i = 0; i < t; i++)
            {
                attended[i] = new double[heads * d];
                for (int head = 0; head < heads; head++)
                {
                    int kvHead = head / (heads / kvHeads);
                    var qi = Prepare(q[i], head, "self_attn.q_norm.weight", i);
                    var scores = Enumerable.Range(0, i + 1)
                        .Select(j => qi.Zip(Prepare(k[j], kvHead, "self_attn.k_norm.weight", j), (a, b) => a * b).Sum() / Math.Sqrt(d)).ToArray();
                    double max = scores.Max();
                    var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                    double total = weights.Sum();
                    for (int j = 0; j <= i; j++)
                    {
                        if (attention is not null) attention[l, head, i, j] = weights[j] / total;
                        for (int e = 0; e < d; e++)
                            attended[i][head * d + e] += weights[j] / total * v[j][kvHead * d + e];
                    }
                }
            }
            var o = Linear(attended, p + "self_attn.o_proj", hidden);
            h = h.Select((row, i) => row.Zip(o[i], (a, b) => a + b).ToArray()).ToArray();
            x = h.Select(row => Norm(row, w[p + "post_attention_layernorm.weight"])).ToArray();
            var gate = Linear(x, p + "mlp.gate_proj", c.IntermediateSize);
            var up = Linear(x, p + "mlp.up_proj", c.IntermediateSize);
            var act = gate.Select((g, i) => g.Select((gv, j) => gv / (1 + Math.Exp(-gv)) * up[i][j]).ToArray()).ToArray();
            var down = Linear(act, p + "mlp.down_proj", hidden);
            h = h.Select((row, i) => row.Zip(down[i], (a, b) => a + b).ToArray()).ToArray();
        }
        h = h.Select(row => Norm(row, w["model.norm.weight"])).ToArray();
        var lmHead = w[c.TieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight"];
        return h.SelectMany(row => Enumerable.Range(0, c.VocabSize).Select(vocab =>
            Enumerable.Range(0, hidden).Sum(i => (double)lmHead[vocab * hidden + i] * row[i]))).ToArray();
    }

    [Fact]
    public void ForwardWithoutCacheRecordsGradientsForTraining()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        model.train();
        var logits = model.Forward(tensor(new long[] { 1, 2, 3, 4 }, [1, 4]));
        var loss = nn.functional.cross_entropy(logits[0, ..^1], tensor(new long[] { 2, 3, 4 }));
        loss.backward();
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
    }
}
