using System.Text.Json;
using System.Text.RegularExpressions;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Datasets;

/// <summary>
/// GSM8K: <c>question</c>, and <c>answer</c> holding the worked solution, one step per line with
/// <c>&lt;&lt;expr=value&gt;&gt;</c> calculator annotations, then a final <c>#### N</c> line.
/// </summary>
internal sealed partial class Gsm8kFormat : IRecordFormat
{
    public const string Family = "gsm8k";

    public string Name => "gsm8k";

    public Problem Parse(JsonElement record, RecordSource source)
    {
        var question = JsonFields.Text(record, "question", "question");
        var solution = JsonFields.Text(record, "answer", "answer");

        var lines = solution.Split('\n');
        var finalLine = Array.FindLastIndex(lines, l => l.TrimStart().StartsWith("####", StringComparison.Ordinal));
        if (finalLine < 0) throw new InvalidRecordException("answer", "has no '#### <answer>' line");
        // Only the number matters here; checking it against a model's answer is the answer checker's job.
        var answer = lines[finalLine].TrimStart()[4..].Replace(",", "").Trim();
        if (answer.Length == 0) throw new InvalidRecordException("answer", "has an empty '####' line");

        var steps = lines[..finalLine]
            .Select(l => CalculatorAnnotation().Replace(l, "").Trim())
            .Where(l => l.Length > 0)
            .Append($"The answer is {answer}.")
            .ToArray();
        return new Problem(source.FallbackId(Family), Family, question.Trim(), answer, AnswerKind.Number)
        {
            ReferenceSteps = steps,
        };
    }

    // The final "#### N" line becomes the closing step every prompt in prompts/ uses, "The answer is N.", so
    // gold solutions look like the solutions search produces and the answer checker reads them the same way.
    // The annotations are calculator calls for the original GSM8K models; they would teach a model
    // a notation the prompts never use.
    [GeneratedRegex("<<.*?>>")]
    private static partial Regex CalculatorAnnotation();
}
