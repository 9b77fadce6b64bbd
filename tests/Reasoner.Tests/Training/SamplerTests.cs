using Reasoner.Models.Backends;
using Reasoner.Tests.Models;
using Reasoner.Training.Decoding;
using static TorchSharp.torch;

namespace Reasoner.Tests.Training;

public class SamplerTests
{
    private static readonly string[] Prompts = ["Question: What is 12 + 35?\n", "Step 1: 9 * 8 = 72.\nStep 2:"];

    /// <summary>Batched, left-padded, cached greedy decoding gives what one full forward per token and argmax give.</summary>
    [Fact]
    public void GreedyMatchesArgmaxOfFullForwards()
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        using var model = TinyModels.Create(TinyModels.Config(vocabSize: tokenizer.VocabSize) with { EosTokenIds = [tokenizer.EosId] });
        var samples = Sampler.Generate(model, tokenizer, Prompts, 1, temperature: 0, topP: 1, maxTokens: 6);
        for (int i = 0; i < Prompts.Length; i++)
        {
            var ids = tokenizer.Encode(Prompts[i]).Select(t => (long)t).ToList();
            var expected = new List<int>();
            for (int step = 0; step < 6; step++)
            {
                using var noGrad = no_grad();
                int next = (int)model.Forward(tensor(ids.ToArray(), [1, ids.Count])).select(1, -1).argmax(-1).item<long>();
                expected.Add(next);
                if (next == tokenizer.EosId) break;
                ids.Add(next);
            }
            Assert.Equal(expected, samples[i].TokenIds);
            Assert.All(samples[i].TokenLogProbs, lp => Assert.True(lp <= 0));
        }
    }

    [Fact]
    public void SamplingIsSeededAndCutsAtStopStrings()
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        using var model = TinyModels.Create(TinyModels.Config(vocabSize: tokenizer.VocabSize) with { EosTokenIds = [tokenizer.EosId] });
        IReadOnlyList<Sample> Draw(ulong seed)
        {
            using var generator = new Generator(seed);
            return Sampler.Generate(model, tokenizer, Prompts, 4, temperature: 1.0, topP: 0.9, maxTokens: 12, Sampler.StopStrings([" "]), generator);
        }
        var a = Draw(5);
        Assert.Equal(8, a.Count);
        Assert.Equal(a.Select(s => s.TokenIds), Draw(5).Select(s => s.TokenIds));
        foreach (var s in a)
        {
            Assert.DoesNotContain(" ", s.Text);
            if (s.Finish == FinishReason.Stop) Assert.Contains(" ", tokenizer.Decode(s.TokenIds));
        }
    }
}
