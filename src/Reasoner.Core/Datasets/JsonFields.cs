using System.Text.Json;

namespace Reasoner.Core.Datasets;

/// <summary>
/// Typed field access on one JSON record that reports the full field path on failure, so every loader
/// produces the same error messages.
/// </summary>
internal static class JsonFields
{
    public static JsonElement Required(JsonElement parent, string name, string path, JsonValueKind kind)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw new InvalidRecordException(path, "is missing");
        if (value.ValueKind != kind)
            throw new InvalidRecordException(path, $"must be {Describe(kind)}, not {Describe(value.ValueKind)}");
        return value;
    }

    /// <summary>A required string that is not blank.</summary>
    public static string Text(JsonElement parent, string name, string path)
    {
        var text = Required(parent, name, path, JsonValueKind.String).GetString()!;
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidRecordException(path, "is empty");
        return text;
    }

    /// <summary>An optional string: null when absent or JSON null, an error when present with another type or blank.</summary>
    public static string? OptionalText(JsonElement parent, string name, string path) =>
        IsPresent(parent, name) ? Text(parent, name, path) : null;

    public static bool IsPresent(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
