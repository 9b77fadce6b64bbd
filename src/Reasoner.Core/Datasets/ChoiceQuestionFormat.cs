using System.Text.Json;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Datasets;

/// <summary>
/// ARC and CommonsenseQA share one layout: <c>id</c>, <c>question.stem</c>,
/// <c>question.choices[{label, text}]</c> and <c>answerKey</c>.
/// </summary>
internal sealed class ChoiceQuestionFormat(string name, string family) : IRecordFormat
{
    public static readonly ChoiceQuestionFormat Arc = new("arc", "arc");
    public static readonly ChoiceQuestionFormat CommonsenseQa = new("csqa", "csqa");

    public string Name => name;

    public Problem Parse(JsonElement record, RecordSource source)
    {
        var id = JsonFields.OptionalText(record, "id", "id") ?? source.FallbackId(family);
        var question = JsonFields.Required(record, "question", "question", JsonValueKind.Object);
        var stem = JsonFields.Text(question, "stem", "question.stem");
        var choices = ReadChoices(JsonFields.Required(question, "choices", "question.choices", JsonValueKind.Array));
        var answer = NormaliseLabel(JsonFields.Text(record, "answerKey", "answerKey").Trim());
        if (!choices.Any(c => c.Label == answer))
            throw new InvalidRecordException("answerKey", $"'{answer}' is not among the choice labels {string.Join(",", choices.Select(c => c.Label))}");
        return new Problem(id, family, stem.Trim(), answer, AnswerKind.Choice) { Choices = choices };
    }

    private static AnswerChoice[] ReadChoices(JsonElement array)
    {
        var choices = new List<AnswerChoice>();
        foreach (var (element, index) in array.EnumerateArray().Select((e, i) => (e, i)))
        {
            var path = $"question.choices[{index}]";
            if (element.ValueKind != JsonValueKind.Object) throw new InvalidRecordException(path, "must be an object");
            var label = NormaliseLabel(JsonFields.Text(element, "label", path + ".label").Trim());
            if (choices.Any(c => c.Label == label)) throw new InvalidRecordException(path + ".label", $"repeats label '{label}'");
            choices.Add(new AnswerChoice(label, JsonFields.Text(element, "text", path + ".text").Trim()));
        }
        if (choices.Count < 2) throw new InvalidRecordException("question.choices", "needs at least two choices");
        return [.. choices];
    }

    /// <summary>A few ARC questions label their choices 1-4; the prompts and answer checker expect letters.</summary>
    private static string NormaliseLabel(string label) =>
        label is [var digit and >= '1' and <= '9'] ? ((char)('A' + digit - '1')).ToString() : label;
}
