using System.Text;
using System.Text.RegularExpressions;

namespace Reasoner.Core.Prompts;

/// <summary>A prompt template or its use is wrong: a malformed, missing or unknown placeholder.</summary>
public sealed class PromptTemplateException(string message) : Exception(message);

/// <summary>
/// A prompt file with <c>{{name}}</c> placeholders; <c>{{{{</c> stands for a literal <c>{{</c>. The text is
/// otherwise used exactly as written, trailing newline or not, because where a prompt ends decides what the
/// model writes first.
/// </summary>
public sealed partial class PromptTemplate
{
    // Literal text and placeholder names alternate; a placeholder is stored as null text with its name.
    private readonly List<(string? Text, string? Placeholder)> _parts = [];

    /// <summary>Parses the template; <paramref name="source"/> names it in error messages (usually its file path).</summary>
    public PromptTemplate(string source, string text)
    {
        Source = source;
        var literal = new StringBuilder();
        for (var i = 0; i < text.Length;)
        {
            if (string.CompareOrdinal(text, i, "{{{{", 0, 4) == 0)
            {
                literal.Append("{{");
                i += 4;
            }
            else if (string.CompareOrdinal(text, i, "{{", 0, 2) == 0)
            {
                var end = text.IndexOf("}}", i + 2, StringComparison.Ordinal);
                var line = text.AsSpan(0, i).Count('\n') + 1;
                if (end < 0) throw new PromptTemplateException($"{source}:{line}: '{{{{' is never closed by '}}}}' (write '{{{{{{{{' for literal braces)");
                var name = text[(i + 2)..end];
                if (!PlaceholderName().IsMatch(name))
                    throw new PromptTemplateException($"{source}:{line}: '{{{{{name}}}}}' is not a placeholder; names are lowercase letters, digits, '_' and '-'");
                _parts.Add((literal.ToString(), null));
                literal.Clear();
                _parts.Add((null, name));
                i = end + 2;
            }
            else
            {
                literal.Append(text[i++]);
            }
        }
        _parts.Add((literal.ToString(), null));
        Placeholders = _parts.Where(p => p.Placeholder is not null).Select(p => p.Placeholder!).Distinct().ToArray();
    }

    public string Source { get; }

    /// <summary>The distinct placeholder names, in order of first use.</summary>
    public IReadOnlyList<string> Placeholders { get; }

    /// <summary>
    /// Fills every placeholder. A value for a name the template lacks is an error too: it is almost always a
    /// typo, or a prompt file that lost a placeholder. Values are inserted verbatim, never parsed for braces.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, string> values)
    {
        var missing = Placeholders.Where(p => !values.ContainsKey(p)).ToList();
        if (missing.Count > 0)
            throw new PromptTemplateException($"{Source}: no value for placeholder {string.Join(", ", missing.Select(m => $"'{{{{{m}}}}}'"))}");
        var unknown = values.Keys.Where(k => !Placeholders.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new PromptTemplateException($"{Source}: has no placeholder {string.Join(", ", unknown.Select(u => $"'{{{{{u}}}}}'"))}; it has {Describe(Placeholders)}");

        var rendered = new StringBuilder();
        foreach (var (text, placeholder) in _parts)
            rendered.Append(placeholder is null ? text : values[placeholder]);
        return rendered.ToString();
    }

    private static string Describe(IReadOnlyList<string> names) =>
        names.Count == 0 ? "none" : string.Join(", ", names.Select(n => $"'{{{{{n}}}}}'"));

    [GeneratedRegex("^[a-z][a-z0-9_-]*$")]
    private static partial Regex PlaceholderName();
}
