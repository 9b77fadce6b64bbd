using System.Text.Json;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Datasets;

/// <summary>
/// Problems stored as JSONL in the <see cref="Problem"/> record's own shape, camelCase:
/// <c>id</c>, <c>family</c>, <c>question</c>, <c>answer</c>, <c>kind</c> (enum name, any case),
/// <c>choices</c> [{label, text}] and <c>referenceSteps</c> [string]. <c>id</c>, <c>choices</c> and
/// <c>referenceSteps</c> may be left out. <see cref="ProblemJsonl"/> writes this shape.
/// </summary>
internal sealed class ProblemJsonFormat : IRecordFormat
{
    public string Name => "problems";

    public Problem Parse(JsonElement record, RecordSource source)
    {
        var family = JsonFields.Text(record, "family", "family").Trim();
        var id = JsonFields.OptionalText(record, "id", "id") ?? source.FallbackId(family);
        var question = JsonFields.Text(record, "question", "question");
        var answer = JsonFields.Text(record, "answer", "answer").Trim();
        var kind = ParseKind(JsonFields.Text(record, "kind", "kind"));
        var choices = JsonFields.IsPresent(record, "choices")
            ? ReadChoices(JsonFields.Required(record, "choices", "choices", JsonValueKind.Array))
            : [];
        var steps = JsonFields.IsPresent(record, "referenceSteps")
            ? ReadSteps(JsonFields.Required(record, "referenceSteps", "referenceSteps", JsonValueKind.Array))
            : null;

        if (kind == AnswerKind.Choice && !choices.Any(c => c.Label == answer))
            throw new InvalidRecordException("answer", $"'{answer}' is not among the choice labels of a Choice problem");
        if (kind == AnswerKind.YesNo)
        {
            answer = answer.ToLowerInvariant();
            if (answer is not ("yes" or "no")) throw new InvalidRecordException("answer", "must be yes or no for a YesNo problem");
        }
        return new Problem(id, family, question, answer, kind) { Choices = choices, ReferenceSteps = steps };
    }

    private static AnswerKind ParseKind(string text)
    {
        // Enum.TryParse also accepts numbers ("2"); the format promises names, so only names are accepted.
        if (char.IsLetter(text[0]) && Enum.TryParse<AnswerKind>(text, ignoreCase: true, out var kind) && Enum.IsDefined(kind))
            return kind;
        throw new InvalidRecordException("kind", $"'{text}' is not one of {string.Join(", ", Enum.GetNames<AnswerKind>())}");
    }

    private static AnswerChoice[] ReadChoices(JsonElement array) =>
        array.EnumerateArray().Select((element, index) =>
        {
            var path = $"choices[{index}]";
            if (element.ValueKind != JsonValueKind.Object) throw new InvalidRecordException(path, "must be an object");
            return new AnswerChoice(JsonFields.Text(element, "label", path + ".label").Trim(), JsonFields.Text(element, "text", path + ".text"));
        }).ToArray();

    private static string[] ReadSteps(JsonElement array) =>
        array.EnumerateArray().Select((element, index) => element.ValueKind == JsonValueKind.String
            ? element.GetString()!
            : throw new InvalidRecordException($"referenceSteps[{index}]", "must be a string")).ToArray();
}
