using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models.Checkpoints;
using Reasoner.Training.Pretraining;

namespace Reasoner.Tests.Training;

public class LookupMonitorTests
{
    private static readonly PromptLibrary Prompts = new(PromptLibrary.FindDefaultRoot());

    [Fact]
    public void TheLookUpsAreTheFirstCategoryAndWhatEachCitedRuleSaysEachWithWhatItDecides()
    {
        const string question = "Every lorpus is a shumpus. Fae is a jompus. Every jompus is a lorpus. Every fompus is not small. "
                                + "Every lorpus is a fompus. Every bompus is small. Every fompus is a zumpus. Is Fae small?";
        var solution = string.Join("\n",
            "Fae is a jompus. Every jompus is a lorpus. So Fae is a lorpus.",
            "Fae is a lorpus. Every lorpus is a fompus. So Fae is a fompus.",
            "Fae is a fompus. Every fompus is not small. So Fae is not small.",
            "The answer is no.");

        var spans = LookupMonitor.LookupSpans(solution, question).Select(s => (solution.Substring(s.Start, s.Length), s.Gap, s.Kind)).ToArray();

        // Each looked-up word with the words between it and its subject ("Fae is a | jompus", "Every jompus is | a", "… is a | lorpus"),
        // and what it decides: lorpus links to two categories (a branch), fompus has a link and a property rule (contested form).
        Assert.Equal([(" jompus", 2, LookupKind.Category), (" a", 1, LookupKind.RuleForm), (" lorpus", 2, LookupKind.LinkTarget),
            (" a", 1, LookupKind.RuleForm), (" fompus", 2, LookupKind.BranchTarget),
            (" not", 1, LookupKind.RuleFormContested), (" small", 2, LookupKind.NegatedProperty)], spans);
        const string plain = "Sally is a zumpus. Every zumpus is small. So Sally is small.\nThe answer is yes.";
        Assert.Equal([(" zumpus", 2, LookupKind.Category), (" small", 1, LookupKind.RuleForm)],
            LookupMonitor.LookupSpans(plain, "Sally is a zumpus. Every zumpus is small. Is Sally small?").Select(s => (plain.Substring(s.Start, s.Length), s.Gap, s.Kind)));
        // Two properties of one category make the word after "is" a choice too.
        Assert.Equal(LookupKind.RuleFormContested,
            LookupMonitor.LookupSpans(plain, "Every zumpus is kind. Sally is a zumpus. Every zumpus is small. Is Sally small?")[1].Kind);
    }

    [Fact]
    public void BatchedMeasurementsCountEveryLookUpTokenOnceAndAgreeWithOneProblemAtATime()
    {
        using var model = CheckpointLoader.LoadModel(BuiltinModel.Locate());
        var tokenizer = CheckpointLoader.LoadTokenizer(BuiltinModel.Locate());
        var corpus = new SolutionCorpus(Prompts.Get(PromptLibrary.SolveBare));
        var problems = BuiltinTasks.TestSet(BuiltinTasks.Logic).Take(12).ToArray();

        var batched = new LookupMonitor(problems, corpus, batchRows: 5).Measure(model, tokenizer);
        var alone = problems.Select(p => new LookupMonitor([p], corpus, batchRows: 1).Measure(model, tokenizer)).ToArray();

        // Every span's words are whole tokens: the count is the tokens the spans' text encodes to.
        int expected = problems.Sum(p => LookupMonitor.LookupSpans(SolutionCorpus.Target(p), p.Question)
            .Sum(s => tokenizer.Encode(SolutionCorpus.Target(p)[..(s.Start + s.Length)]).Length - tokenizer.Encode(SolutionCorpus.Target(p)[..s.Start]).Length));
        Assert.Equal(expected, batched.Tokens);
        Assert.Equal(problems.Length, batched.Problems);
        // Right padding must not move any prediction: the batch gives what each problem gives alone.
        Assert.Equal(alone.Sum(a => a.Correct), batched.Correct);
        Assert.Equal(alone.Sum(a => a.ProblemsAllCorrect), batched.ProblemsAllCorrect);
        Assert.InRange(batched.Correct, 0, batched.Tokens);
        // The counts by gap add up to the whole, and each gap's agree with one problem at a time.
        Assert.Equal([1, 2], batched.ByGap.Keys.Order());
        Assert.Equal(batched.Tokens, batched.ByGap.Values.Sum(g => g.Tokens));
        Assert.Equal(batched.Correct, batched.ByGap.Values.Sum(g => g.Correct));
        foreach (var gap in new[] { 1, 2 })
            Assert.Equal(alone.Sum(a => a.ByGap.GetValueOrDefault(gap).Correct), batched.ByGap[gap].Correct);
        // So do the counts by kind.
        Assert.Equal(batched.Tokens, batched.ByKind.Values.Sum(k => k.Tokens));
        Assert.Equal(batched.Correct, batched.ByKind.Values.Sum(k => k.Correct));
        foreach (var kind in batched.ByKind.Keys)
            Assert.Equal(alone.Sum(a => a.ByKind.GetValueOrDefault(kind).Correct), batched.ByKind[kind].Correct);
        // The rule forms by right and predicted word: as many as the form look-ups, the diagonal their right ones.
        var formKinds = new[] { LookupKind.RuleForm, LookupKind.RuleFormContested };
        Assert.Equal(formKinds.Sum(k => batched.ByKind.GetValueOrDefault(k).Tokens), batched.Forms.Values.Sum());
        // (A property predicted for a property is counted on the diagonal even when it is the wrong property.)
        int formsRight = formKinds.Sum(k => batched.ByKind.GetValueOrDefault(k).Correct);
        int sameWord = batched.Forms.Where(f => f.Key.Right == f.Key.Predicted).Sum(f => f.Value);
        Assert.InRange(formsRight, sameWord - batched.Forms.GetValueOrDefault((RuleWord.Other, RuleWord.Other)), sameWord);
        // Every solution's word is read from the solution: the rows add up to its words after "Every C is".
        int links = problems.Sum(p => System.Text.RegularExpressions.Regex.Matches(SolutionCorpus.Target(p), @"Every \w+ is a ").Count);
        Assert.Equal(links, batched.Forms.Where(f => f.Key.Right == RuleWord.Link).Sum(f => f.Value));
        // The polarity counts are the form look-ups that are not links: every "not" rightly predicted among them.
        Assert.Equal(batched.Forms.Where(f => f.Key.Right != RuleWord.Link).Sum(f => f.Value), batched.Polarity.Tokens);
        Assert.InRange(batched.Polarity.Correct, batched.Forms.GetValueOrDefault((RuleWord.Not, RuleWord.Not)),
            batched.Forms.GetValueOrDefault((RuleWord.Not, RuleWord.Not)) + batched.Forms.GetValueOrDefault((RuleWord.Other, RuleWord.Other)));
        Assert.Equal(alone.Sum(a => a.Polarity.Correct), batched.Polarity.Correct);

        // Rule clozes: one per problem that has one, and the count of right ones agrees with one problem at a time.
        var drills = new LookupDrills(Prompts.Get(PromptLibrary.LookupBare));
        var clozes = LookupMonitor.ClozeAccuracy(model, tokenizer, problems, drills, batchRows: 5);
        Assert.Equal(problems.Select((p, i) => drills.EncodeCloze(p, new Random(i), tokenizer)).Count(c => c is not null), clozes.Asked);
        Assert.InRange(clozes.Right, 0, clozes.Polar);
        Assert.InRange(clozes.Polar, 0, clozes.Asked);
        // Right padding must not move a prediction: one row at a time gives the same counts.
        Assert.Equal(clozes, LookupMonitor.ClozeAccuracy(model, tokenizer, problems, drills, batchRows: 1));

        // Reverse and quiz drills: every line of every problem's drill is asked once, sorted by what it is about, and batching moves nothing.
        foreach (var lines in new Func<Core.Problems.Problem, Random, IReadOnlyList<AskedLine>>[] { LookupDrills.ReverseLines, LookupDrills.QuizLines, LookupDrills.AskedPropertyLines })
        {
            var answers = LookupMonitor.AnswerAccuracy(model, tokenizer, problems, drills, lines, batchRows: 5);
            Assert.Equal(problems.Sum(p => lines(p, new Random(0)).Count), answers.Values.Sum(r => r.Asked));
            Assert.Equal(problems.Sum(p => lines(p, new Random(0)).Count(l => l.Kind == AskedKind.Negated)), answers.Where(a => a.Key.Kind == AskedKind.Negated).Sum(a => a.Value.Asked));
            Assert.All(answers.Values, r => Assert.InRange(r.Right, 0, r.Asked));
            Assert.Equal(answers, LookupMonitor.AnswerAccuracy(model, tokenizer, problems, drills, lines, batchRows: 1));
            // What is scored is the answer's tokens: they decode to the answer each line asks for, in the line's order.
            var (sequence, positions) = LookupMonitor.AskedAnswers(problems[0], lines(problems[0], new Random(0)), drills, tokenizer)!.Value;
            Assert.Equal(lines(problems[0], new Random(0)).Select(l => " " + l.Answer), positions.Select(a => tokenizer.Decode([.. a.Positions.Select(p => sequence.Tokens[p])])));
        }
    }
}
