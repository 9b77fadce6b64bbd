using System.Text.Json;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Datasets;

/// <summary>
/// StrategyQA as a BIG-bench task: <c>input</c>, <c>target_scores</c> {Yes, No} with the right one scored 1,
/// and <c>target</c>, the answer word followed by supporting facts. The records have no id.
/// </summary>
internal sealed class StrategyQaFormat : IRecordFormat
{
    public const string Family = "strategyqa";

    public string Name => "strategyqa";

    public Problem Parse(JsonElement record, RecordSource source)
    {
        var question = JsonFields.Text(record, "input", "input");
        var scores = JsonFields.Required(record, "target_scores", "target_scores", JsonValueKind.Object);
        var yes = Score(scores, "Yes");
        var no = Score(scores, "No");
        if (yes == no) throw new InvalidRecordException("target_scores", "scores Yes and No equally");
        var answer = yes > no ? "yes" : "no";

        // The target repeats the answer; a disagreement means the record is corrupt, not that one of them wins.
        var target = JsonFields.OptionalText(record, "target", "target");
        var targetAnswer = target?.TrimStart().Split('.', ' ')[0].ToLowerInvariant();
        if (targetAnswer is "yes" or "no" && targetAnswer != answer)
            throw new InvalidRecordException("target", $"says '{targetAnswer}' but target_scores says '{answer}'");

        return new Problem(source.FallbackId(Family), Family, question.Trim(), answer, AnswerKind.YesNo);
    }

    private static double Score(JsonElement scores, string name) =>
        JsonFields.Required(scores, name, "target_scores." + name, JsonValueKind.Number).GetDouble();
}
