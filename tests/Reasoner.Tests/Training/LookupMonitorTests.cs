using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models.Checkpoints;
using Reasoner.Training.Pretraining;

namespace Reasoner.Tests.Training;

public class LookupMonitorTests
{
    private static readonly PromptLibrary Prompts = new(PromptLibrary.FindDefaultRoot());

    [Fact]
    public void TheLookUpsAreTheFirstCategoryAndWhatEachCitedRuleSays()
    {
        var solution = string.Join("\n",
            "Fae is a jompus. Every jompus is a lorpus. So Fae is a lorpus.",
            "Fae is a lorpus. Every lorpus is a fompus. So Fae is a fompus.",
            "Fae is a fompus. Every fompus is not small. So Fae is not small.",
            "The answer is no.");

        var spans = LookupMonitor.LookupSpans(solution).Select(s => solution.Substring(s.Start, s.Length)).ToArray();

        Assert.Equal([" jompus", " a lorpus", " a fompus", " not small"], spans);
        Assert.Equal([" zumpus", " small"], LookupMonitor.LookupSpans("Sally is a zumpus. Every zumpus is small. So Sally is small.\nThe answer is yes.")
            .Select(s => "Sally is a zumpus. Every zumpus is small. So Sally is small.\nThe answer is yes.".Substring(s.Start, s.Length)));
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
        int expected = problems.Sum(p => LookupMonitor.LookupSpans(SolutionCorpus.Target(p))
            .Sum(s => tokenizer.Encode(SolutionCorpus.Target(p)[..(s.Start + s.Length)]).Length - tokenizer.Encode(SolutionCorpus.Target(p)[..s.Start]).Length));
        Assert.Equal(expected, batched.Tokens);
        Assert.Equal(problems.Length, batched.Problems);
        // Right padding must not move any prediction: the batch gives what each problem gives alone.
        Assert.Equal(alone.Sum(a => a.Correct), batched.Correct);
        Assert.Equal(alone.Sum(a => a.ProblemsAllCorrect), batched.ProblemsAllCorrect);
        Assert.InRange(batched.Correct, 0, batched.Tokens);
    }
}
