using Reasoner.Training.Pretraining;

namespace Reasoner.Tests.Training;

public class TaskMixTests
{
    [Fact]
    public void ParsesNamesWithOptionalWeights()
    {
        var mix = TaskMix.Parse("arith:1, logic:3");
        Assert.Equal(["arith", "logic"], mix.Names);
        Assert.Equal([1.0, 3.0], mix.Weights);
        Assert.Equal("arith,logic:3", mix.ToString());
        Assert.Equal([1.0, 1.0], TaskMix.Parse("arith,logic").Weights);
    }

    [Theory]
    [InlineData("chess")]
    [InlineData("arith,arith")]
    [InlineData("arith:0")]
    [InlineData("arith:x")]
    [InlineData("")]
    public void RejectsBadMixes(string text) => Assert.Throws<ArgumentException>(() => TaskMix.Parse(text));

    [Fact]
    public void DrawsInProportionToTheWeights()
    {
        var mix = TaskMix.Parse("arith:1,logic:3");
        var random = new Random(1);
        double logicShare = Enumerable.Range(0, 20_000).Count(_ => mix.Draw(random) == 1) / 20_000.0;
        Assert.InRange(logicShare, 0.73, 0.77);
    }
}

public class DifficultyMixTests
{
    [Fact]
    public void ParsesLevelsWithOptionalWeightsAndRejectsBadOnes()
    {
        var mix = DifficultyMix.Parse("1:3, 2");
        Assert.Equal([1, 2], mix.Levels);
        Assert.Equal([3.0, 1.0], mix.Weights);
        Assert.Equal(2, mix.Hardest);
        Assert.Equal("1:3,2", mix.ToString());
        foreach (var bad in new[] { "0", "4", "1,1", "2:0", "x", "" })
            Assert.Throws<ArgumentException>(() => DifficultyMix.Parse(bad));
    }

    [Fact]
    public void OneLevelGivesTheStreamASingleDifficultyGaveAndAMixDrawsBothInProportion()
    {
        var tasks = TaskMix.Parse("arith,logic");
        // The stream a single difficulty always gave: each task's own train stream, tasks drawn from the seeded random.
        var random = new Random(7);
        var streams = tasks.Names.Select((t, i) => Reasoner.Core.Tasks.BuiltinTasks.Generate(t, Reasoner.Core.Tasks.Split.Train, 7 + i, 2).GetEnumerator()).ToArray();
        var expected = Enumerable.Range(0, 50).Select(_ => { var s = streams[tasks.Draw(random)]; s.MoveNext(); return s.Current.Id; }).ToList();
        Assert.Equal(expected, SolutionCorpus.TrainProblems(tasks, _ => DifficultyMix.Single(2), 7).Take(50).Select(p => p.Id));

        var mixed = SolutionCorpus.TrainProblems(TaskMix.Parse("logic"), _ => DifficultyMix.Parse("1:3,2:1"), 7).Take(2000).ToList();
        // Difficulty 1 logic has at most 2 hops and 2 distractors: at most 5 statements before the question.
        double easy = mixed.Count(p => p.Question.Split('.').Length - 1 <= 5 && p.ReferenceSteps!.Count <= 3) / 2000.0;
        Assert.InRange(easy, 0.70, 0.85);
    }

    [Fact]
    public void AnUncontestedShareDrawsThatShareOfLogicProblemsWithoutTheContestedDistractorAndLeavesArithAlone()
    {
        static bool Contested(Reasoner.Core.Problems.Problem p)
        {
            // The asked property named by a rule of the question's other than the chain's: "Is Fae small?" and two rules ending "small.".
            var property = System.Text.RegularExpressions.Regex.Match(p.Question, @"Is \w+ (\w+)\?$").Groups[1].Value;
            return System.Text.RegularExpressions.Regex.Matches(p.Question, $@"Every \w+ is (not )?{property}\.").Count > 1;
        }
        var tasks = TaskMix.Parse("arith,logic:3");
        var problems = SolutionCorpus.TrainProblems(tasks, _ => DifficultyMix.Parse("1,2"), 7, uncontestedShare: 0.3).Take(2000).ToList();
        var logic = problems.Where(p => p.Family == "logic").ToList();
        Assert.InRange(logic.Count(p => !Contested(p)) / (double)logic.Count, 0.25, 0.35);
        Assert.InRange(problems.Count(p => p.Family == "arith"), 400, 600);
        // The share at 0 draws nothing more: the stream without the option.
        Assert.Equal(SolutionCorpus.TrainProblems(tasks, _ => DifficultyMix.Parse("1,2"), 7).Take(200).Select(p => p.Id),
            SolutionCorpus.TrainProblems(tasks, _ => DifficultyMix.Parse("1,2"), 7, uncontestedShare: 0).Take(200).Select(p => p.Id));
        Assert.All(SolutionCorpus.TrainProblems(tasks, _ => DifficultyMix.Parse("1,2"), 7).Where(p => p.Family == "logic").Take(200), p => Assert.True(Contested(p)));
        Assert.Throws<ArgumentException>(() => new PretrainSettings { OutputDirectory = "unused", Steps = 1, UncontestedShare = 1 }.Validate());
    }

    [Fact]
    public void ATasksOwnDifficultyMixOverridesTheSharedOneForThatTaskAlone()
    {
        var perTask = DifficultyMix.ParsePerTask(["arith=1", " logic = 1:1,2:3 "]);
        Assert.Equal("1", perTask["arith"].ToString());
        Assert.Equal("1,2:3", perTask["logic"].ToString());
        foreach (var bad in new[] { "arith", "=1", "arith=4", "arith=1:0" })
            Assert.Throws<ArgumentException>(() => DifficultyMix.ParsePerTask([bad]));
        Assert.Throws<ArgumentException>(() => DifficultyMix.ParsePerTask(["arith=1", "arith=2"]));

        var settings = new PretrainSettings
        {
            OutputDirectory = "unused", Steps = 1, Tasks = TaskMix.Parse("arith,logic"), Difficulties = DifficultyMix.Single(2),
            TaskDifficulties = DifficultyMix.ParsePerTask(["arith=1"]),
        };
        settings.Validate();
        Assert.Equal(2, settings.HardestDifficulty);
        var problems = SolutionCorpus.TrainProblems(settings.Tasks, settings.DifficultiesOf, 7).Take(400).ToList();
        // Difficulty 1 arithmetic keeps every quantity at most 10 and has at most 2 steps; logic stays at difficulty 2 (4 distractors).
        Assert.All(problems.Where(p => p.Family == "arith"), p => Assert.InRange(p.ReferenceSteps!.Count, 2, 3));
        Assert.All(problems.Where(p => p.Family == "arith"), p => Assert.InRange(int.Parse(p.Answer), 2, 10));
        Assert.Contains(problems, p => p.Family == "logic" && p.Question.Split('.').Length - 1 > 5);
        Assert.InRange(problems.Count(p => p.Family == "arith"), 150, 250);

        Assert.Throws<ArgumentException>(() => (settings with { TaskDifficulties = DifficultyMix.ParsePerTask(["gsm8k=1"]) }).Validate());
    }

    [Fact]
    public void ASolutionWeightIsParsedPerTaskAndMustNameATaskTrainedOn()
    {
        var weights = TaskMix.ParseWeights(["arith=0.25", " logic = 2 "]);
        Assert.Equal(0.25, weights["arith"]);
        Assert.Equal(2.0, weights["logic"]);
        foreach (var bad in new[] { "arith", "=1", "arith=x" })
            Assert.Throws<ArgumentException>(() => TaskMix.ParseWeights([bad]));
        Assert.Throws<ArgumentException>(() => TaskMix.ParseWeights(["arith=1", "arith=2"]));

        var settings = new PretrainSettings { OutputDirectory = "unused", Steps = 1, Tasks = TaskMix.Parse("arith,logic"), SolutionWeights = TaskMix.ParseWeights(["arith=0.25"]) };
        settings.Validate();
        Assert.Equal(0.25f, settings.SolutionWeightOf("arith"));
        Assert.Equal(1f, settings.SolutionWeightOf("logic"));
        Assert.Throws<ArgumentException>(() => (settings with { SolutionWeights = TaskMix.ParseWeights(["gsm8k=0.5"]) }).Validate());
        Assert.Throws<ArgumentException>(() => (settings with { SolutionWeights = TaskMix.ParseWeights(["arith=0"]) }).Validate());
        Assert.Throws<ArgumentException>(() => (settings with { SolutionWeights = TaskMix.ParseWeights(["arith=-1"]) }).Validate());
    }

    [Fact]
    public void OwnStepJudgementsFollowTheirOwnTaskMixWhenGivenAndTheReplacedProblemsTaskOtherwise()
    {
        var settings = new PretrainSettings { OutputDirectory = "unused", Steps = 1, OwnStepsAt = 0, Tasks = TaskMix.Parse("arith:1,logic:12") };
        var random = new Random(3);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal("logic", settings.OwnStepTaskFor("logic", random)));

        var even = settings with { OwnStepTasks = TaskMix.Parse("arith,logic") };
        even.Validate();
        // Every replaced problem is logic, and half the judgements are arithmetic all the same.
        double arith = Enumerable.Range(0, 4000).Count(_ => even.OwnStepTaskFor("logic", random) == "arith") / 4000.0;
        Assert.InRange(arith, 0.47, 0.53);
        var arithOnly = settings with { OwnStepTasks = TaskMix.Parse("arith") };
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal("arith", arithOnly.OwnStepTaskFor("logic", random)));

        Assert.Throws<ArgumentException>(() => (settings with { Tasks = TaskMix.Parse("logic"), OwnStepTasks = TaskMix.Parse("arith,logic") }).Validate());
        Assert.Throws<ArgumentException>(() => (even with { OwnStepsAt = null }).Validate());
    }
}
