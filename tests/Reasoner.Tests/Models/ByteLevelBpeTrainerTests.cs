using System.Text.Json.Nodes;
using Reasoner.Models.Tokenization;

namespace Reasoner.Tests.Models;

/// <summary>The built-in tokenizer: learned from a corpus, lossless, and a standard HF tokenizer.json.</summary>
public class ByteLevelBpeTrainerTests
{
    private static HfTokenizer Tokenizer => TinyModels.ArithmeticTokenizer;

    [Theory]
    [InlineData("Question: What is 12 + 35?\nStep 1: 12 + 35 = 47.\nAnswer: 47")]
    [InlineData("unseen words, tabs\tand   spaces\r\n")]
    [InlineData("Ünïcödé — “quotes” café 東京 😀")]
    [InlineData("<|im_start|>user\n2 + 2?<|im_end|><|endoftext|>")]
    [InlineData("")]
    public void EncodeDecodeRoundTrips(string text) => Assert.Equal(text, Tokenizer.Decode(Tokenizer.Encode(text)));

    [Fact]
    public void LearnsMergesAndKeepsDigitsSingle()
    {
        var tokens = Tokenizer.Encode(TinyModels.ArithmeticCorpus[1]).Select(id => Tokenizer.IdToToken(id)).ToList();
        Assert.Contains("Question", tokens); // frequent words became single tokens
        Assert.Contains("ĠWhat", tokens);
        Assert.Contains("Answer", tokens);
        var digits = Tokenizer.Encode("90417");
        Assert.Equal(["9", "0", "4", "1", "7"], digits.Select(id => Tokenizer.Decode([id])));
    }

    [Fact]
    public void SpecialTokensComeAfterTheVocabularyAndTheFirstIsEos()
    {
        int eos = Tokenizer.EosId;
        Assert.Equal("<|endoftext|>", Tokenizer.IdToToken(eos));
        Assert.Equal(Tokenizer.VocabSize - 3, eos);
        Assert.True(Tokenizer.IsSpecial(eos));
        Assert.Equal([eos], Tokenizer.Encode("<|endoftext|>"));
        Assert.Equal("ab", Tokenizer.Decode([.. Tokenizer.Encode("a"), eos, .. Tokenizer.Encode("b")], skipSpecialTokens: true));
    }

    [Fact]
    public void SavedFilesReloadToTheSameTokenizer()
    {
        using var dir = new TestData.TempDirectory();
        Tokenizer.Save(dir.Path);
        var loaded = HfTokenizer.Load(dir.Path);
        foreach (var text in TinyModels.ArithmeticCorpus)
            Assert.Equal(Tokenizer.Encode(text), loaded.Encode(text));
        Assert.Equal(Tokenizer.EosId, loaded.EosId);
        Assert.Equal(Tokenizer.VocabSize, loaded.VocabSize);
    }

    /// <summary>The fields HF tokenizers' deserializer requires, with merges whose parts and results are all in the vocabulary.</summary>
    [Fact]
    public void TokenizerJsonHasTheHfSchema()
    {
        var root = JsonNode.Parse(Tokenizer.TokenizerJson)!;
        foreach (var key in new[] { "version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder", "model" })
            Assert.True(root.AsObject().ContainsKey(key), key);
        var model = root["model"]!;
        Assert.Equal("BPE", model["type"]!.GetValue<string>());
        var vocab = model["vocab"]!.AsObject();
        Assert.Equal(Enumerable.Range(0, vocab.Count), vocab.Select(kv => kv.Value!.GetValue<int>()).Order());
        foreach (var merge in model["merges"]!.AsArray().Select(m => m!.GetValue<string>()))
        {
            var parts = merge.Split(' ');
            Assert.Equal(2, parts.Length);
            Assert.True(vocab.ContainsKey(parts[0]) && vocab.ContainsKey(parts[1]) && vocab.ContainsKey(parts[0] + parts[1]), merge);
        }
        Assert.All(root["added_tokens"]!.AsArray(), t => Assert.True(t!["id"]!.GetValue<int>() >= vocab.Count));
        var config = JsonNode.Parse(Tokenizer.TokenizerConfigJson)!;
        Assert.Equal("<|endoftext|>", config["eos_token"]!.GetValue<string>());
        Assert.Equal("PreTrainedTokenizerFast", config["tokenizer_class"]!.GetValue<string>());
    }

    [Fact]
    public void PhrasesKeptWholeBecomeOneTokenOnlyAsWholeWords()
    {
        string[] corpus = [.. Enumerable.Range(0, 40).Select(i => $"Fae is a jompus. Every jompus is not small. Every tumpus is a lorpus {i}.")];
        var tokenizer = ByteLevelBpeTrainer.Train(corpus, vocabSize: 400, splitPattern: ByteLevelBpeTrainer.SplitPatternKeeping(["is a", "is not"]));
        string Pieces(string text) => string.Join("|", tokenizer.Encode(text).Select(id => tokenizer.Decode([id])));

        Assert.Equal("Every| jompus| is a| lorpus", Pieces("Every jompus is a lorpus"));
        Assert.Equal("Every| jompus| is not| small", Pieces("Every jompus is not small"));
        // Not inside longer words: "is about" and "is nothing" split as the standard pattern splits them.
        Assert.DoesNotContain(Pieces("Fae is about").Split('|'), piece => piece.Trim().Contains(' '));
        Assert.DoesNotContain(Pieces("Fae is nothing").Split('|'), piece => piece.Trim().Contains(' '));
        // Without phrases the standard split never joins words.
        var plain = ByteLevelBpeTrainer.Train(corpus, vocabSize: 400);
        Assert.DoesNotContain(plain.Encode("Every jompus is a lorpus"), id => plain.Decode([id]).Trim().Contains(' '));
        // Lossless, reloads with its own split, and refuses a GGUF export by name rather than splitting otherwise there.
        Assert.Equal("Sam is a wumpus, is not it?", tokenizer.Decode(tokenizer.Encode("Sam is a wumpus, is not it?")));
        Assert.Equal(tokenizer.Encode(corpus[3]), HfTokenizer.FromJson(tokenizer.TokenizerJson, tokenizer.TokenizerConfigJson).Encode(corpus[3]));
        var refused = Assert.Throws<NotSupportedException>(() => Reasoner.Models.Gguf.GgufExporter.PreTokenizerName(tokenizer.SplitPattern));
        Assert.Contains("--keep-whole", refused.Message);
    }

    [Theory]
    [InlineData("is  a")]
    [InlineData(" is a")]
    [InlineData("is-a")]
    [InlineData("")]
    public void APhraseKeptWholeIsWordsOfLetters(string phrase) =>
        Assert.Throws<ArgumentException>(() => ByteLevelBpeTrainer.SplitPatternKeeping([phrase]));

    [Fact]
    public void TrainingIsDeterministic() =>
        Assert.Equal(Tokenizer.TokenizerJson, ByteLevelBpeTrainer.Train(TinyModels.ArithmeticCorpus, vocabSize: 300).TokenizerJson);
}
