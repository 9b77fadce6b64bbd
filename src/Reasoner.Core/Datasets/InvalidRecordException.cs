namespace Reasoner.Core.Datasets;

/// <summary>
/// Raised by a record parser for a field that is missing, mistyped or inconsistent; the loader adds the
/// file and line, which the parser does not know.
/// </summary>
internal sealed class InvalidRecordException(string field, string reason) : Exception($"field '{field}' {reason}")
{
    public string Field { get; } = field;
    public string Reason { get; } = reason;
}
