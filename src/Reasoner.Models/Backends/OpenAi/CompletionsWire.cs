using System.Text.Json;
using System.Text.Json.Serialization;

namespace Reasoner.Models.Backends.OpenAi;

// The OpenAI legacy completions API (POST /v1/completions) as vLLM, SGLang, llama.cpp's server and Reasoner's
// own serve-model speak it. One definition for both sides, so that the client and the server cannot drift apart.
// Fields are snake_case on the wire; null fields are left out, except where null itself means something.

/// <summary>The body of <c>POST /v1/completions</c>.</summary>
public sealed record CompletionsRequestBody
{
    public string? Model { get; init; }

    /// <summary>A string, or a list of strings (Reasoner reads a list of one; a server may batch more).</summary>
    [JsonConverter(typeof(StringOrListConverter))]
    public IReadOnlyList<string>? Prompt { get; init; }

    public int? N { get; init; }
    public int? MaxTokens { get; init; }

    [JsonConverter(typeof(StringOrListConverter))]
    public IReadOnlyList<string>? Stop { get; init; }

    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public long? Seed { get; init; }

    /// <summary>How many top alternatives per token; any value, 0 included, asks for the chosen tokens' log-probs.</summary>
    public int? Logprobs { get; init; }

    /// <summary>Return the prompt (and its tokens' log-probs) before the generated text.</summary>
    public bool? Echo { get; init; }

    /// <summary>vLLM extension: spell <c>logprobs.tokens</c> as <c>token_id:N</c>, which carries the ids.</summary>
    public bool? ReturnTokensAsTokenIds { get; init; }
}

public sealed record CompletionsResponseBody
{
    public string Id { get; init; } = "";
    public string Object { get; init; } = "text_completion";
    public long Created { get; init; }
    public string Model { get; init; } = "";
    public IReadOnlyList<CompletionChoiceBody> Choices { get; init; } = [];
    public UsageBody? Usage { get; init; }
}

public sealed record CompletionChoiceBody
{
    public int Index { get; init; }
    public string Text { get; init; } = "";
    public CompletionLogProbsBody? Logprobs { get; init; }

    /// <summary><c>stop</c> (a stop string or end of sequence), <c>length</c> (the token limit), or a server's own reason.</summary>
    public string? FinishReason { get; init; }

    /// <summary>
    /// vLLM's way to tell the two kinds of <c>stop</c> apart: null for end of sequence, the stop string (or stop
    /// token id) otherwise. A <see cref="JsonValueKind.Undefined"/> element when the server sends no such field.
    /// </summary>
    public JsonElement StopReason { get; init; }
}

/// <summary>
/// Per-token log-probabilities. The legacy shape (<c>tokens</c>, <c>token_logprobs</c>, <c>text_offset</c>) is
/// what OpenAI, vLLM, SGLang and serve-model send; llama.cpp's server sends <c>content</c>, a list of
/// <c>{id, token, logprob}</c>, instead. <c>top_logprobs</c> is not read, and serve-model leaves it out: its
/// backends report no alternatives, and a list of only the chosen tokens would pass every token off as greedy.
/// </summary>
public sealed record CompletionLogProbsBody
{
    public IReadOnlyList<string>? Tokens { get; init; }

    /// <summary>Null for a text's very first token, which has nothing to be conditioned on.</summary>
    public IReadOnlyList<double?>? TokenLogprobs { get; init; }

    /// <summary>Where each token starts, in characters of the choice's text.</summary>
    public IReadOnlyList<int>? TextOffset { get; init; }

    public IReadOnlyList<TokenLogProbBody>? Content { get; init; }
}

/// <summary>One token in llama.cpp's <c>logprobs.content</c>.</summary>
public sealed record TokenLogProbBody
{
    public int? Id { get; init; }
    public string Token { get; init; } = "";
    public double? Logprob { get; init; }
}

public sealed record UsageBody
{
    public int? PromptTokens { get; init; }
    public int? CompletionTokens { get; init; }
    public int? TotalTokens { get; init; }
}

/// <summary><c>{"error": {"message", "type", "code", "param"}}</c>, as OpenAI and vLLM send it.</summary>
public sealed record ErrorResponseBody(ErrorBody Error);

public sealed record ErrorBody
{
    public string Message { get; init; } = "";
    public string Type { get; init; } = "";
    public int Code { get; init; }

    /// <summary>The request field at fault, for a bad request.</summary>
    public string? Param { get; init; }
}

/// <summary>The body of <c>GET /v1/models</c>.</summary>
public sealed record ModelListBody
{
    public string Object { get; init; } = "list";
    public IReadOnlyList<ModelCardBody> Data { get; init; } = [];
}

public sealed record ModelCardBody
{
    public string Id { get; init; } = "";
    public string Object { get; init; } = "model";
    public long Created { get; init; }
    public string OwnedBy { get; init; } = "reasoner";

    /// <summary>Reasoner's extension: present when the model is a step scorer served at <c>POST /v1/score</c>.</summary>
    public ScorerCardBody? Scorer { get; init; }

    /// <summary>The context window in tokens (prompt plus completion), as vLLM reports it; clients clamp their token limits to it.</summary>
    public int? MaxModelLen { get; init; }
}

/// <summary>The body of <c>GET /health</c>.</summary>
public sealed record HealthBody(string Status);

/// <summary>vLLM's <c>return_tokens_as_token_ids</c> spelling of a token, <c>token_id:N</c>, which carries its id.</summary>
public static class TokenIdSpelling
{
    public const string Prefix = "token_id:";

    public static string Of(int id) => Prefix + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Reads a string or a list of strings (as <c>prompt</c> and <c>stop</c> may be); writes one string as a string.</summary>
public sealed class StringOrListConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return [reader.GetString()!];
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected a string or a list of strings");
        var items = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String) throw new JsonException("expected a string or a list of strings");
            items.Add(reader.GetString()!);
        }
        return items;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        if (value.Count == 1)
        {
            writer.WriteStringValue(value[0]);
            return;
        }
        writer.WriteStartArray();
        foreach (var item in value) writer.WriteStringValue(item);
        writer.WriteEndArray();
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CompletionsRequestBody))]
[JsonSerializable(typeof(CompletionsResponseBody))]
[JsonSerializable(typeof(ErrorResponseBody))]
[JsonSerializable(typeof(ModelListBody))]
[JsonSerializable(typeof(HealthBody))]
[JsonSerializable(typeof(ScoreRequestBody))]
[JsonSerializable(typeof(ScoreResponseBody))]
[JsonSerializable(typeof(string))]
public sealed partial class CompletionsJsonContext : JsonSerializerContext;
