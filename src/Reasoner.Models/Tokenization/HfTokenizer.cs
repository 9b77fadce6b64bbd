using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Reasoner.Models.Tokenization;

/// <summary>A token that tokenizer.json's added_tokens list matches in raw text before pre-tokenization.</summary>
public sealed record AddedToken(int Id, string Content, bool Special);

/// <summary>
/// A Hugging Face tokenizer read from <c>tokenizer.json</c> (+ <c>tokenizer_config.json</c>): the byte-level BPE
/// family of GPT-2, Llama 3, Qwen2/2.5/3. The BPE merging, byte-level mapping, regex pre-tokenization and
/// added-token splitting run in Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>; this class maps the JSON
/// pipeline description onto it and answers the config-level questions (EOS, BOS, special tokens, chat template).
/// </summary>
public sealed class HfTokenizer : ITextTokenizer
{
    public const string TokenizerFile = "tokenizer.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";

    // GPT-2's split, used by a ByteLevel pre-tokenizer with use_regex: true (HF tokenizers byte_level.rs).
    private const string Gpt2SplitPattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly BpeTokenizer bpe;
    private readonly Dictionary<int, string> tokenById;
    private readonly Dictionary<string, int> idByToken;
    private readonly HashSet<int> specialIds;

    /// <summary>tokenizer.json exactly as read, written back unchanged by <see cref="Save"/>.</summary>
    public string TokenizerJson { get; }

    /// <summary>tokenizer_config.json as read (or generated), written back unchanged by <see cref="Save"/>.</summary>
    public string TokenizerConfigJson { get; }

    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>The Jinja chat template from tokenizer_config.json, stored for a later renderer; null if none.</summary>
    public string? ChatTemplate { get; }

    public int VocabSize { get; }
    public int EosId { get; }
    public int? BosId { get; }

    /// <summary>The pre-tokenizer's split regex (HF syntax); GGUF export maps it to a llama.cpp pre-tokenizer name.</summary>
    internal string SplitPattern { get; }

    /// <summary>BPE merges as "left right" strings, highest priority first.</summary>
    internal IReadOnlyList<string> Merges { get; }

    private HfTokenizer(BpeTokenizer bpe, string tokenizerJson, string configJson, IReadOnlyList<AddedToken> added,
        Dictionary<string, int> idByToken, string? chatTemplate, int eosId, int? bosId, string splitPattern, IReadOnlyList<string> merges)
    {
        this.bpe = bpe;
        SplitPattern = splitPattern;
        Merges = merges;
        TokenizerJson = tokenizerJson;
        TokenizerConfigJson = configJson;
        AddedTokens = added;
        this.idByToken = idByToken;
        tokenById = idByToken.ToDictionary(kv => kv.Value, kv => kv.Key);
        specialIds = added.Where(a => a.Special).Select(a => a.Id).ToHashSet();
        ChatTemplate = chatTemplate;
        VocabSize = idByToken.Values.Max() + 1;
        EosId = eosId;
        BosId = bosId;
    }

    /// <summary>Reads <c>tokenizer.json</c> and, if present, <c>tokenizer_config.json</c> from a model folder.</summary>
    public static HfTokenizer Load(string directory)
    {
        string path = Path.Combine(directory, TokenizerFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory} has no {TokenizerFile}", path);
        string configPath = Path.Combine(directory, TokenizerConfigFile);
        return FromJson(File.ReadAllText(path), File.Exists(configPath) ? File.ReadAllText(configPath) : null, directory);
    }

    /// <param name="source">Named in error messages.</param>
    public static HfTokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson, string source = "tokenizer")
    {
        var root = JsonNode.Parse(tokenizerJson)?.AsObject() ?? throw new FormatException($"{source}: {TokenizerFile} is not a JSON object");
        var config = tokenizerConfigJson is null ? new JsonObject() : JsonNode.Parse(tokenizerConfigJson)!.AsObject();

        var model = root["model"]?.AsObject() ?? throw new FormatException($"{source}: {TokenizerFile} has no model");
        string modelType = model["type"]?.GetValue<string>() ?? "BPE";
        if (modelType != "BPE") throw new NotSupportedException($"{source}: tokenizer model type '{modelType}' is not supported (supported: BPE)");

        var vocab = model["vocab"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>());
        // Merges are "a b" strings in older files and [a, b] pairs since tokenizers 0.20; the pair form allows spaces.
        var merges = model["merges"]!.AsArray().Select(m => m is JsonArray pair
            ? $"{pair[0]!.GetValue<string>()} {pair[1]!.GetValue<string>()}"
            : m!.GetValue<string>()).ToList();

        var added = (root["added_tokens"]?.AsArray() ?? [])
            .Select(t => new AddedToken(t!["id"]!.GetValue<int>(), t["content"]!.GetValue<string>(), t["special"]?.GetValue<bool>() ?? false))
            .ToList();
        var addedById = added.ToDictionary(a => a.Content, a => a.Id);

        var (splitPattern, byteLevel) = ReadPreTokenizer(root["pre_tokenizer"], source);
        if (!byteLevel) throw new NotSupportedException($"{source}: only byte-level BPE tokenizers are supported (pre_tokenizer has no ByteLevel step)");
        var regex = new Regex(splitPattern, RegexOptions.Compiled);

        var bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = addedById,
            PreTokenizer = new CodePointRegexPreTokenizer(regex, addedById.Keys),
            Normalizer = ReadNormalizer(root["normalizer"], source),
            ByteLevel = true,
        });

        var idByToken = new Dictionary<string, int>(vocab);
        foreach (var a in added) idByToken[a.Content] = a.Id;

        int? TokenId(string key)
        {
            var node = config[key];
            string? content = node is JsonObject o ? o["content"]?.GetValue<string>() : node?.GetValue<string>();
            if (content is null) return null;
            return idByToken.TryGetValue(content, out var id) ? id
                : throw new FormatException($"{source}: {key} '{content}' is not in the vocabulary");
        }
        int eos = TokenId("eos_token")
            ?? new[] { "<|endoftext|>", "<|end_of_text|>", "</s>" }.Where(idByToken.ContainsKey).Select(t => (int?)idByToken[t]).FirstOrDefault()
            ?? throw new FormatException($"{source}: no eos_token in {TokenizerConfigFile} and no conventional end-of-text token in the vocabulary");

        string configText = tokenizerConfigJson ?? DefaultConfigJson(added, eosToken: idByToken.First(kv => kv.Value == eos).Key);
        return new HfTokenizer(bpe, tokenizerJson, configText, added, idByToken, ReadChatTemplate(config["chat_template"]), eos, TokenId("bos_token"),
            splitPattern, merges);
    }

    private static (string Pattern, bool ByteLevel) ReadPreTokenizer(JsonNode? node, string source)
    {
        string? pattern = null;
        bool byteLevel = false;
        void Visit(JsonNode? n)
        {
            if (n is null) return;
            string type = n["type"]!.GetValue<string>();
            switch (type)
            {
                case "Sequence":
                    foreach (var child in n["pretokenizers"]!.AsArray()) Visit(child);
                    break;
                case "Split":
                    string behavior = n["behavior"]?.GetValue<string>() ?? "Isolated";
                    if (behavior != "Isolated" || (n["invert"]?.GetValue<bool>() ?? false))
                        throw new NotSupportedException($"{source}: Split pre-tokenizer with behavior '{behavior}' is not supported (supported: Isolated)");
                    var p = n["pattern"]!;
                    pattern = p["Regex"]?.GetValue<string>() ?? Regex.Escape(p["String"]!.GetValue<string>());
                    break;
                case "ByteLevel":
                    byteLevel = true;
                    if (n["add_prefix_space"]?.GetValue<bool>() ?? false)
                        throw new NotSupportedException($"{source}: ByteLevel add_prefix_space is not supported");
                    if (n["use_regex"]?.GetValue<bool>() ?? true) pattern ??= Gpt2SplitPattern;
                    break;
                default:
                    throw new NotSupportedException($"{source}: pre-tokenizer '{type}' is not supported (supported: Sequence, Split, ByteLevel)");
            }
        }
        Visit(node);
        // A byte-level pipeline without any split treats the whole text as one word.
        return (pattern ?? @"[\s\S]+", byteLevel);
    }

    private static Normalizer? ReadNormalizer(JsonNode? node, string source)
    {
        string? type = node?["type"]?.GetValue<string>();
        return type switch
        {
            null => null,
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC),
            _ => throw new NotSupportedException($"{source}: normalizer '{type}' is not supported (supported: none, NFC, NFKC)"),
        };
    }

    private static string? ReadChatTemplate(JsonNode? node) => node switch
    {
        null => null,
        // Some tokenizers store several named templates; "default" is the one apply_chat_template uses.
        JsonArray named => named.FirstOrDefault(t => t?["name"]?.GetValue<string>() == "default")?["template"]?.GetValue<string>(),
        _ => node.GetValue<string>(),
    };

    private static string DefaultConfigJson(IReadOnlyList<AddedToken> added, string eosToken)
    {
        var decoder = new JsonObject();
        foreach (var a in added)
            decoder[a.Id.ToString()] = new JsonObject
            {
                ["content"] = a.Content, ["lstrip"] = false, ["normalized"] = false,
                ["rstrip"] = false, ["single_word"] = false, ["special"] = a.Special,
            };
        var config = new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_prefix_space"] = false,
            ["added_tokens_decoder"] = decoder,
            ["bos_token"] = null,
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = eosToken,
            ["model_max_length"] = 1_000_000,
            ["pad_token"] = eosToken,
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
        };
        return config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public int[] Encode(string text) => bpe.EncodeToIds(text).ToArray();

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false) =>
        bpe.Decode(skipSpecialTokens ? ids.Where(id => !specialIds.Contains(id)) : ids, considerSpecialTokens: true);

    public int? TokenToId(string token) => idByToken.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => tokenById.TryGetValue(id, out var token) ? token : null;

    public bool IsSpecial(int id) => specialIds.Contains(id);

    /// <summary>Writes tokenizer.json and tokenizer_config.json into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, TokenizerFile), TokenizerJson);
        File.WriteAllText(Path.Combine(directory, TokenizerConfigFile), TokenizerConfigJson);
    }

    private sealed class UnicodeNormalizer(NormalizationForm form) : Normalizer
    {
        public override string Normalize(string original) => original.Normalize(form);
        public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(form);
    }
}
