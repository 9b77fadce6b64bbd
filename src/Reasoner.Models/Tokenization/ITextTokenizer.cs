namespace Reasoner.Models.Tokenization;

/// <summary>Text ↔ token ids, as the language model sees them.</summary>
public interface ITextTokenizer
{
    /// <summary>One more than the largest id the tokenizer can produce (the model's vocab_size may be larger).</summary>
    int VocabSize { get; }

    /// <summary>The end-of-sequence token (tokenizer_config's eos_token).</summary>
    int EosId { get; }

    int? BosId { get; }

    /// <summary>Ids for <paramref name="text"/> with no BOS/EOS added; special tokens written in the text (e.g. "&lt;|im_start|&gt;") become their ids.</summary>
    int[] Encode(string text);

    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false);

    int? TokenToId(string token);

    string? IdToToken(int id);

    bool IsSpecial(int id);
}
