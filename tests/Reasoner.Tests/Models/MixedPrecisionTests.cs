using Reasoner.Models;
using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

/// <summary><see cref="CausalLanguageModel.MatmulDtype"/>: bf16 blocks on fp32 weights, as pretrain --matmul bf16 trains.</summary>
public class MixedPrecisionTests
{
    static readonly long[,] Ids = { { 5, 17, 42, 8, 61, 3, 99, 27 }, { 11, 2, 73, 40, 6, 58, 14, 90 } };

    [Fact]
    public void Bf16BlocksGiveLogitsCloseToFp32AndFp32AgainExactly()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        using var ids = tensor(Ids);
        using var reference = model.ForwardRightPadded(ids);
        model.MatmulDtype = ScalarType.BFloat16;
        using var mixed = model.ForwardRightPadded(ids);
        Assert.Equal(ScalarType.Float32, mixed.dtype);
        double scale = reference.abs().max().item<float>();
        double difference = (mixed - reference).abs().max().item<float>();
        // bf16 keeps 8 bits of mantissa: close, but not the fp32 product (so the bf16 path did run).
        Assert.InRange(difference, 1e-6, 0.05 * scale);
        Assert.True(mixed.argmax(-1).eq(reference.argmax(-1)).to(ScalarType.Float32).mean().item<float>() >= 0.75);
        model.MatmulDtype = null;
        using var again = model.ForwardRightPadded(ids);
        Assert.Equal(0, (again - reference).abs().max().item<float>());
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void GradientsReachTheFp32WeightsAndPointWhereFp32Ones(string modelType)
    {
        using var model = TinyModels.Create(TinyModels.Config(modelType));
        model.train();
        using var ids = tensor(Ids);
        var reference = Gradients(model, ids);
        model.MatmulDtype = ScalarType.BFloat16;
        var mixed = Gradients(model, ids);
        Assert.Equal(reference.Keys, mixed.Keys);
        foreach (var (name, g) in mixed)
        {
            Assert.Equal(ScalarType.Float32, g.dtype);
            double cosine = nn.functional.cosine_similarity(g.flatten(), reference[name].flatten(), 0).item<float>();
            Assert.True(cosine > 0.98, $"{name}: cosine {cosine:0.000} with the fp32 gradient");
        }
    }

    [Fact]
    public void DecodingWithAKvCacheRefusesBf16Blocks()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        model.MatmulDtype = ScalarType.BFloat16;
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        using var ids = tensor(Ids);
        var error = Assert.Throws<InvalidOperationException>(() => model.Forward(ids, cache));
        Assert.Contains("MatmulDtype", error.Message);
    }

    static Dictionary<string, Tensor> Gradients(CausalLanguageModel model, Tensor ids)
    {
        model.zero_grad();
        using (var scope = NewDisposeScope())
        {
            var logits = model.ForwardRightPadded(ids);
            long t = ids.shape[1], v = logits.shape[2];
            nn.functional.cross_entropy(logits.narrow(1, 0, t - 1).reshape(-1, v), ids.narrow(1, 1, t - 1).reshape(-1)).backward();
        }
        return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
    }
}
