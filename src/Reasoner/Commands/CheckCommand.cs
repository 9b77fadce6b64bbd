using System.CommandLine;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Cli.Commands;

/// <summary><c>check TEXT --reference R</c>: extract the final answer from a solution and judge it.</summary>
static class CheckCommand
{
    public static Command Create(CliContext context)
    {
        var text = new Argument<string>("text") { Description = "The solution text, or '-' to read it from standard input." };
        var reference = new Option<string>("--reference", "-r") { Description = "The reference answer.", Required = true };
        var kind = EnumOption.Create<AnswerKind>("--kind",
            "How to compare: number (commas, currency, units, percent), math (LaTeX, algebraic equivalence), choice (letters) or yes-no.",
            AnswerKind.Number, "-k");
        var command = new Command("check", "Extract the final answer from a solution ('The answer is …', '#### …', '\\boxed{…}', '(C)', 'Yes.') and judge it against a reference. Exit code 0 when it is correct, 1 when not.")
        {
            text, reference, kind,
        };
        command.SetAction(parse =>
        {
            var solution = parse.GetValue(text)!;
            if (solution == "-") solution = Console.In.ReadToEnd();
            var answerKind = EnumOption.Value<AnswerKind>(parse, kind);
            var referenceAnswer = parse.GetValue(reference)!;
            var extracted = AnswerExtractor.Extract(solution, answerKind);
            var correct = extracted is not null && AnswerChecker.IsEquivalent(extracted, referenceAnswer, answerKind);
            context.Output.WriteLine($"extracted: {extracted ?? "(none)"}");
            context.Output.WriteLine($"reference: {referenceAnswer}");
            context.Output.WriteLine($"verdict:   {(correct ? "correct" : "incorrect")}");
            return correct ? 0 : 1;
        });
        return command;
    }
}
