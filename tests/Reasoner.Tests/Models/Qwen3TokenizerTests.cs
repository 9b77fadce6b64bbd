using System.Text.Json;
using Reasoner.Models.Tokenization;

namespace Reasoner.Tests.Models;

/// <summary>The real Qwen3 tokenizer in shared/data reproduces the reference ids of the HF tokenizers pipeline.</summary>
public class Qwen3TokenizerTests
{
    private static readonly Lazy<HfTokenizer> Qwen3 = new(() => HfTokenizer.Load(TestData.Qwen3TokenizerDirectory));

    public static IEnumerable<object[]> ReferenceLines() =>
        File.ReadLines(Path.Combine(TestData.Qwen3TokenizerDirectory, "reference_ids.jsonl"))
            .Where(l => l.Length > 0)
            .Select((line, i) => new object[] { i });

    private static (string Text, int[] Ids) Reference(int line)
    {
        var json = File.ReadLines(Path.Combine(TestData.Qwen3TokenizerDirectory, "reference_ids.jsonl")).Where(l => l.Length > 0).ElementAt(line);
        using var doc = JsonDocument.Parse(json);
        return (doc.RootElement.GetProperty("text").GetString()!, doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
    }

    [Theory]
    [MemberData(nameof(ReferenceLines))]
    public void EncodesReferenceTextToReferenceIdsAndDecodesBack(int line)
    {
        var (text, ids) = Reference(line);
        Assert.Equal(ids, Qwen3.Value.Encode(text));
        Assert.Equal(text, Qwen3.Value.Decode(ids));
    }

    [Fact]
    public void AllFiftyFourReferenceLinesAreRead() => Assert.Equal(54, ReferenceLines().Count());

    [Fact]
    public void KnowsSpecialTokensEosAndChatTemplate()
    {
        var tok = Qwen3.Value;
        Assert.Equal(151645, tok.EosId); // <|im_end|>, tokenizer_config's eos_token
        Assert.Null(tok.BosId);
        Assert.Equal(151644, tok.TokenToId("<|im_start|>"));
        Assert.Equal("<|endoftext|>", tok.IdToToken(151643));
        Assert.True(tok.IsSpecial(151643));
        Assert.False(tok.IsSpecial(tok.Encode("hello")[0]));
        Assert.Contains("<|im_start|>", tok.ChatTemplate);
        Assert.Equal(151669, tok.VocabSize);

        var ids = tok.Encode("<|im_start|>user\nHi<|im_end|>");
        Assert.Equal(151644, ids[0]);
        Assert.Equal(151645, ids[^1]);
        Assert.Equal("user\nHi", tok.Decode(ids, skipSpecialTokens: true));
    }

    /// <summary>
    /// Letters outside the BMP are \p{L} to HF's regex: " 𝑥" and "-axis" are separate words.
    /// Expected ids from HF tokenizers.js 0.2.0 on this tokenizer.json.
    /// </summary>
    [Fact]
    public void LettersOutsideTheBasicPlaneSplitAsHfDoes()
    {
        Assert.Equal([1782, 81250, 239, 98, 35321], Qwen3.Value.Encode("the 𝑥-axis"));
        Assert.Equal("the 𝑥-axis", Qwen3.Value.Decode([1782, 81250, 239, 98, 35321]));
        foreach (var text in new[] { "2𝟙3 𝟘", "a𝑥b + 𝑦 = 1", "𠀋𠀌 abc𠀋" })
            Assert.Equal(text, Qwen3.Value.Decode(Qwen3.Value.Encode(text)));
    }
}
