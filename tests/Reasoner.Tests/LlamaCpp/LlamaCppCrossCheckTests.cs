using Reasoner.Models.Backends;
using Reasoner.Models.Gguf;
using Xunit.Abstractions;

namespace Reasoner.Tests.LlamaCpp;

/// <summary>
/// Two independent implementations of the same network: the TorchSharp engine on the HF checkpoint and llama.cpp on
/// the GGUF exported from it, fed the same token ids. Any mistake in the export (rotary layout, head order, norm
/// epsilon, tied head, biases, rope scaling, tokenizer) shows up as a difference in next-token log-probabilities.
/// </summary>
public class LlamaCppCrossCheckTests(ITestOutputHelper output)
{
    private const string Prompt = "Question: What is 9 * 8 - 5?\nStep 1: 9 * 8 = 72.\nStep 2:";

    [Theory]
    [MemberData(nameof(TinyGguf.Variants), MemberType = typeof(TinyGguf))]
    public void NextTokenLogProbsAgreeOverTheWholeVocabularyAtEveryPosition(string variant)
    {
        using var tiny = new TinyGguf(variant);
        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        var ids = tiny.Tokenizer.Encode(Prompt);
        Assert.True(ids.Length >= 16, $"prompt has {ids.Length} tokens");

        var expected = tiny.TorchLogProbs(ids);
        var actual = llama.Logits(ids);
        Assert.Equal(tiny.Config.VocabSize, actual[0].Length);
        double worst = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            var logZ = LogSumExp(actual[t]);
            for (int v = 0; v < actual[t].Length; v++) worst = Math.Max(worst, Math.Abs(actual[t][v] - logZ - expected[t][v]));
        }
        output.WriteLine($"{variant}: max |Δ log p| over {ids.Length} positions × {tiny.Config.VocabSize} tokens = {worst:E2}");
        Assert.True(worst < 1e-4, $"{variant}: max |Δ log p| = {worst}");
    }

    [Theory]
    [MemberData(nameof(TinyGguf.Variants), MemberType = typeof(TinyGguf))]
    public void GreedyContinuationsAreIdenticalTokenByToken(string variant)
    {
        using var tiny = new TinyGguf(variant);
        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        var ids = tiny.Tokenizer.Encode(Prompt).ToList();
        var (expected, _, margin) = tiny.TorchGreedy(ids, 16);
        output.WriteLine($"{variant}: smallest top-2 log-prob margin along the greedy path {margin:F4}");
        Assert.True(margin > 1e-3, $"{variant}: near-tie ({margin}) on the greedy path; the comparison would test rounding, not the export");

        var actual = new List<int>();
        for (int i = 0; i < 16; i++)
        {
            var last = llama.Logits([.. ids, .. actual])[^1];
            actual.Add(Array.IndexOf(last, last.Max()));
        }
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(TinyGguf.Variants), MemberType = typeof(TinyGguf))]
    public async Task GreedyCompletionThroughTheKvCacheMatchesTheTorchForward(string variant)
    {
        using var tiny = new TinyGguf(variant);
        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        Assert.Equal(tiny.Tokenizer.Encode(Prompt), llama.Tokenize(Prompt));
        var (expected, expectedLogProbs, _) = tiny.TorchGreedy(tiny.Tokenizer.Encode(Prompt), 16);

        var completion = Assert.Single(await llama.CompleteAsync(new CompletionRequest(Prompt, N: 1, MaxTokens: 16) { Temperature = 0 }));
        // Generation may end early only at an end-of-generation token, which is then the last token.
        Assert.Equal(expected.Take(completion.TokenCount), completion.TokenIds);
        Assert.True(completion.Finish == FinishReason.Length ? completion.TokenCount == 16 : completion.Finish == FinishReason.EndOfSequence);
        AssertClose(expectedLogProbs.Take(completion.TokenCount).ToList(), completion.TokenLogProbs, 1e-4);
    }

    [Fact]
    public void F16ExportStaysCloseToTheFloat32Model()
    {
        using var tiny = new TinyGguf("llama-untied-padded-vocab", GgmlType.F16);
        var file = GgufFile.Read(tiny.GgufPath);
        Assert.Equal(GgmlType.F16, file.Tensor("blk.0.attn_v.weight").Type);
        Assert.Equal(GgmlType.F32, file.Tensor("blk.0.attn_norm.weight").Type);
        var stored = tiny.Model.state_dict()["model.layers.0.self_attn.v_proj.weight"].data<float>().ToArray();
        Assert.Equal(stored.Select(v => (float)(Half)v), file.ReadFloats("blk.0.attn_v.weight"));

        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        var ids = tiny.Tokenizer.Encode(Prompt);
        var expected = tiny.TorchLogProbs(ids);
        var actual = llama.Logits(ids);
        double worst = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            var logZ = LogSumExp(actual[t]);
            for (int v = 0; v < actual[t].Length; v++) worst = Math.Max(worst, Math.Abs(actual[t][v] - logZ - expected[t][v]));
        }
        // F16 weights, and llama.cpp rounds the activations to F16 for F16 matrix products: ~5e-2 here.
        output.WriteLine($"f16 weights: max |Δ log p| = {worst:E2}");
        Assert.True(worst < 0.15, $"max |Δ log p| = {worst}");
    }

    [Theory]
    [InlineData("Question: What is 12 + 35?\nStep 1: 12 + 35 = 47.\nAnswer: 47")]
    [InlineData("Is (true and not false) or false?  Yes, it's true; they'll say so.\n\n\n")]
    [InlineData("<|im_start|>user\n100 / 4 + 3<|im_end|>\n<|endoftext|>")]
    [InlineData("Ünïcödé 𝑥-axis, 日本語 1234567 ½ — tabs\tand   spaces  ")]
    [InlineData("HELLO World's THEY'RE 3.14159e-10 $1,000,000!!!")]
    public void LlamaCppTokenizesLikeTheHfTokenizer(string text)
    {
        using var tiny = new TinyGguf("llama-tied");
        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        Assert.Equal(tiny.Tokenizer.Encode(text), llama.Tokenize(text));
        Assert.Equal(text, llama.Decode(llama.Tokenize(text)));
    }

    internal static double LogSumExp(float[] x)
    {
        double max = x.Max();
        return max + Math.Log(x.Sum(v => Math.Exp(v - max)));
    }

    internal static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).DefaultIfEmpty(0).Max();
        Assert.True(worst < tolerance, $"max |Δ log p| = {worst}");
    }
}
