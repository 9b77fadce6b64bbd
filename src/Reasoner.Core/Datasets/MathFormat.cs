using System.Text.Json;
using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Datasets;

/// <summary>
/// MATH and MATH-500: <c>problem</c>, <c>solution</c>, and <c>answer</c> (MATH-500) or, in the original MATH,
/// only the last <c>\boxed{}</c> of the solution. <c>unique_id</c> (MATH-500) becomes the id.
/// </summary>
internal sealed class MathFormat : IRecordFormat
{
    public const string Family = "math";

    public string Name => "math";

    public Problem Parse(JsonElement record, RecordSource source)
    {
        var question = JsonFields.Text(record, "problem", "problem");
        var solution = JsonFields.Text(record, "solution", "solution");
        var answer = JsonFields.OptionalText(record, "answer", "answer")
            ?? AnswerExtractor.Extract(solution, AnswerKind.Math)
            ?? throw new InvalidRecordException("solution", "has no \\boxed{...} answer and the record has no 'answer'");
        var id = JsonFields.OptionalText(record, "unique_id", "unique_id") ?? source.FallbackId(Family);
        return new Problem(id, Family, question.Trim(), answer.Trim(), AnswerKind.Math)
        {
            ReferenceSteps = Steps(solution),
        };
    }

    /// <summary>
    /// MATH solutions are paragraphs, and a paragraph is the natural step; it is folded onto one line
    /// because steps are newline-delimited everywhere else.
    /// </summary>
    private static string[] Steps(string solution) =>
        solution.Replace("\r\n", "\n")
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => string.Join(' ', p.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            .ToArray();
}
