using System.Text.Json;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Datasets;

/// <summary>Where a record came from, for ids of sources that have none.</summary>
internal readonly record struct RecordSource(string FileStem, int Line)
{
    /// <summary>"&lt;family&gt;-&lt;file stem&gt;-&lt;line&gt;": stable as long as the file is not reordered.</summary>
    public string FallbackId(string family) => $"{family}-{FileStem}-{Line}";
}

/// <summary>Turns one JSON record of a source dataset into a <see cref="Problem"/>.</summary>
internal interface IRecordFormat
{
    string Name { get; }

    /// <summary>Throws <see cref="InvalidRecordException"/> naming the field when the record is unusable.</summary>
    Problem Parse(JsonElement record, RecordSource source);
}
