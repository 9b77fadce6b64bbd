using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Reasoner.Models.Tokenization;

/// <summary>
/// Learns a small byte-level BPE tokenizer from a corpus (for the built-in model) and emits it as a standard
/// HF <c>tokenizer.json</c> with the same pipeline as Qwen2/Qwen3 (NFC, regex split with single digits, ByteLevel),
/// so <see cref="HfTokenizer"/> and HF tokenizers read it alike. Every byte is in the base vocabulary, so any text encodes.
/// </summary>
public static partial class ByteLevelBpeTrainer
{
    /// <summary>Qwen2/Qwen3's split: digits are single tokens, which keeps arithmetic digit-aligned.</summary>
    public const string SplitPattern = Contractions + "|" + Pieces;

    private const string Contractions = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)";
    private const string Pieces = @"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>
    /// <see cref="SplitPattern"/> with each phrase (words of letters, e.g. "is a") kept as one piece when it follows a space
    /// and no letter follows it, so BPE can give it one token. Hugging Face tokenizers read any split regex; llama.cpp
    /// knows only its built-in ones, so such a tokenizer is not exported to GGUF.
    /// </summary>
    public static string SplitPatternKeeping(IReadOnlyList<string> phrases)
    {
        if (phrases.Count == 0) return SplitPattern;
        foreach (var phrase in phrases)
            if (!PhraseRegex().IsMatch(phrase)) throw new ArgumentException($"a phrase kept whole must be words of letters with single spaces between them, got '{phrase}'");
        // Longest first, so a phrase that begins another does not cut it short; letters and spaces need no escaping.
        var alternatives = string.Join("|", phrases.Distinct().OrderByDescending(p => p.Length).ThenBy(p => p, StringComparer.Ordinal));
        return $@"{Contractions}| (?:{alternatives})(?!\p{{L}})|{Pieces}";
    }

    public static readonly IReadOnlyList<string> DefaultSpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    /// <param name="vocabSize">Target size of the BPE vocabulary: 256 bytes plus learned merges (special tokens come on top).</param>
    /// <param name="specialTokens">Added after the vocabulary; the first is the EOS token.</param>
    /// <param name="minPairCount">A pair seen fewer times than this is not merged, so tiny corpora stop early.</param>
    /// <param name="splitPattern">The pre-tokenizer's split regex: <see cref="SplitPattern"/> unless given (<see cref="SplitPatternKeeping"/>).</param>
    public static HfTokenizer Train(IEnumerable<string> corpus, int vocabSize, IReadOnlyList<string>? specialTokens = null, int minPairCount = 2, string splitPattern = SplitPattern)
    {
        if (vocabSize < 256) throw new ArgumentOutOfRangeException(nameof(vocabSize), "a byte-level vocabulary needs at least the 256 byte tokens");
        specialTokens ??= DefaultSpecialTokens;
        if (specialTokens.Count == 0) throw new ArgumentException("at least one special token (the EOS token) is required", nameof(specialTokens));

        var byteChar = ByteLevelAlphabet();
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocab[byteChar[b].ToString()] = b;

        // Words (regex pieces) as symbol lists with their corpus counts; special tokens are never split into words.
        var split = new Regex(splitPattern, RegexOptions.Compiled);
        var specials = new Regex(string.Join("|", specialTokens.Select(Regex.Escape)));
        var wordCounts = new Dictionary<string, int>();
        foreach (var text in corpus)
            foreach (var part in specials.Split(text.Normalize(NormalizationForm.FormC)))
                foreach (Match m in split.Matches(part))
                {
                    string word = string.Concat(Encoding.UTF8.GetBytes(m.Value).Select(b => byteChar[b]));
                    wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
                }
        var words = wordCounts.Select(kv => (Symbols: kv.Key.Select(c => c.ToString()).ToList(), Count: kv.Value)).ToList();

        var merges = new List<(string Left, string Right)>();
        while (vocab.Count < vocabSize)
        {
            var pairCounts = new Dictionary<(string, string), int>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairCounts[(symbols[i], symbols[i + 1])] = pairCounts.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (pairCounts.Count == 0) break;
            // Most frequent pair; ties go to the ordinally smallest pair so training is deterministic.
            var best = pairCounts.OrderByDescending(kv => kv.Value)
                .ThenBy(kv => kv.Key.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).First();
            if (best.Value < minPairCount) break;
            var (left, right) = best.Key;
            string merged = left + right;
            if (!vocab.ContainsKey(merged)) vocab[merged] = vocab.Count;
            merges.Add((left, right));
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == left && symbols[i + 1] == right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
        }

        var tokenizerJson = TokenizerJson(vocab, merges, specialTokens, splitPattern);
        return HfTokenizer.FromJson(tokenizerJson, tokenizerConfigJson: null, source: "trained byte-level BPE");
    }

    private static string TokenizerJson(Dictionary<string, int> vocab, List<(string Left, string Right)> merges, IReadOnlyList<string> specialTokens, string splitPattern)
    {
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };
        var vocabJson = new JsonObject();
        foreach (var (token, id) in vocab.OrderBy(kv => kv.Value)) vocabJson[token] = id;
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(specialTokens.Select((t, i) => (JsonNode?)new JsonObject
            {
                ["id"] = vocab.Count + i, ["content"] = t, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            }).ToArray()),
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = splitPattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    byteLevel.DeepClone()),
            },
            ["post_processor"] = byteLevel.DeepClone(),
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocabJson,
                // "left right" strings: readable by every tokenizers version (byte-level tokens never contain a space).
                ["merges"] = new JsonArray(merges.Select(m => (JsonNode?)JsonValue.Create($"{m.Left} {m.Right}")).ToArray()),
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>
    /// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other bytes map to U+0100 onwards,
    /// so every token is a printable string (space becomes 'Ġ', newline 'Ċ').
    /// </summary>
    private static char[] ByteLevelAlphabet()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
            map[b] = (b is >= '!' and <= '~') || (b is >= 0xA1 and <= 0xAC) || (b is >= 0xAE and <= 0xFF) ? (char)b : (char)next++;
        return map;
    }

    [GeneratedRegex(@"^\p{L}+( \p{L}+)*$")]
    private static partial Regex PhraseRegex();
}
