using Reasoner.Core.Problems;

namespace Reasoner.Core.Datasets;

/// <summary>The problems read from one file, and the lines skipped as invalid when skipping was asked for.</summary>
public sealed record DatasetLoadResult(IReadOnlyList<Problem> Problems, IReadOnlyList<DatasetLineError> Skipped);

/// <summary>
/// Why one line of a dataset file was rejected. <see cref="Field"/> is a JSON path such as
/// <c>question.choices[2].label</c>, or null when the line is not a JSON object at all.
/// </summary>
public sealed record DatasetLineError(string File, int Line, string? Field, string Reason)
{
    public string Message => Field is null ? $"{File}:{Line}: {Reason}" : $"{File}:{Line}: field '{Field}' {Reason}";

    public override string ToString() => Message;
}

/// <summary>A dataset file holds a record that cannot be turned into a problem.</summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException(DatasetLineError error) : base(error.Message) => Error = error;

    public DatasetFormatException(string message) : base(message) { }

    /// <summary>The offending line, when the problem is one line rather than the whole file.</summary>
    public DatasetLineError? Error { get; }
}
