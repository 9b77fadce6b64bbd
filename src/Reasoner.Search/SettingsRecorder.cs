using System.Globalization;

namespace Reasoner.Search;

/// <summary>Writes settings as the invariant-culture strings a tree stores, so that a tree read anywhere says the same.</summary>
internal sealed class SettingsRecorder
{
    private readonly SortedDictionary<string, string> _values = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Values => _values;

    public SettingsRecorder Add(string name, double value)
    {
        _values.Add(name, value.ToString("R", CultureInfo.InvariantCulture));
        return this;
    }

    public SettingsRecorder Add(string name, int value)
    {
        _values.Add(name, value.ToString(CultureInfo.InvariantCulture));
        return this;
    }

    public SettingsRecorder Add(string name, bool value)
    {
        _values.Add(name, value ? "true" : "false");
        return this;
    }

    public SettingsRecorder Add(string name, string value)
    {
        _values.Add(name, value);
        return this;
    }
}
