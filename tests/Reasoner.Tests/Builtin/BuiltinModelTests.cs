using Reasoner.Core.Answers;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
using Reasoner.Models.Gguf;
using Reasoner.Models.Tokenization;
using Reasoner.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Reasoner.Tests.Builtin;

/// <summary>
/// The committed built-in model (models/builtin): it loads in the HF layout, expects the bare prompt, solves some
/// test problems and fails others, and two independent implementations — the TorchSharp engine on the checkpoint and
/// llama.cpp on the GGUF exported from it — agree on it token for token.
/// </summary>
public class BuiltinModelTests(ITestOutputHelper output)
{
    private static readonly string Directory = BuiltinModel.Locate();

    private static string Prompt(Core.Problems.Problem problem) =>
        new PromptLibrary(PromptLibrary.FindDefaultRoot()).Get(PromptLibrary.SolveBare)
            .Render(new Dictionary<string, string> { ["question"] = PromptLibrary.FormatQuestion(problem) });

    [Fact]
    public void TheCommittedModelIsASmallLlamaThatNamesItsBarePrompts()
    {
        var config = ModelConfig.Load(Path.Combine(Directory, CheckpointFiles.Config));
        Assert.Equal("llama", config.ModelType);
        Assert.Equal(PromptLibrary.SolveBare, ModelPromptSettings.Load(Directory)?.Prompt);
        // Trained on the self-evaluation prompt, so search's self-evaluation scorer asks it that way (issue 11).
        Assert.Equal(PromptLibrary.SelfEvalBare, ModelPromptSettings.Load(Directory)?.SelfEvalPrompt);
        long bytes = new DirectoryInfo(Directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        Assert.True(bytes < 20L << 20, $"the built-in model takes {bytes / 1e6:0.0} MB; the repository keeps it under 20 MB");
        Assert.Equal(3, HfTokenizer.Load(Directory).Encode("123").Length);
    }

    [Fact]
    public async Task GreedyDecodingSolvesSomeTestProblemsAndFailsOthers()
    {
        using var engine = TorchEngine.Load(Directory);
        foreach (var task in BuiltinTasks.Names)
        {
            var problems = BuiltinTasks.TestSet(task).Take(20).ToList();
            int correct = 0;
            foreach (var problem in problems)
            {
                var completion = (await engine.CompleteAsync(new CompletionRequest(Prompt(problem), 1, 256) { Temperature = 0 }))[0];
                Assert.Equal(FinishReason.EndOfSequence, completion.Finish);
                if (AnswerChecker.Check(completion.Text, problem).IsCorrect) correct++;
            }
            output.WriteLine($"{task}: greedy {correct}/{problems.Count}");
            // The model must leave room for search: neither hopeless nor perfect on its own test problems.
            Assert.InRange(correct, 1, problems.Count - 1);
        }
    }

    [Fact]
    public async Task LlamaCppOnTheExportedGgufAgreesWithTheTorchEngine()
    {
        using var temp = new TestData.TempDirectory();
        string gguf = Path.Combine(temp.Path, "builtin.gguf");
        GgufExporter.Export(Directory, gguf);
        using var llama = LlamaCppModel.Load(gguf);
        var checkpoint = CheckpointLoader.Load(Directory);
        using var model = checkpoint.Model;
        using var engine = new TorchEngine(model, checkpoint.Tokenizer, "builtin");

        foreach (var problem in new[] { BuiltinTasks.TestSet(BuiltinTasks.Arith)[0], BuiltinTasks.TestSet(BuiltinTasks.Logic)[0] })
        {
            string prompt = Prompt(problem);
            var ids = checkpoint.Tokenizer.Encode(prompt);
            Assert.Equal(ids, llama.Tokenize(prompt));

            // Next-token log-probabilities over the whole vocabulary after every prompt token, from a full forward.
            double worst = 0;
            var actual = llama.Logits(ids);
            using (no_grad())
            using (var input = tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]))
            using (var logProbs = nn.functional.log_softmax(model.Forward(input), -1).to(float64))
            {
                var expected = logProbs.data<double>().ToArray();
                int v = checkpoint.Config.VocabSize;
                for (int t = 0; t < ids.Length; t++)
                {
                    double logZ = LlamaCpp.LlamaCppCrossCheckTests.LogSumExp(actual[t]);
                    for (int j = 0; j < v; j++) worst = Math.Max(worst, Math.Abs(actual[t][j] - logZ - expected[t * v + j]));
                }
            }
            output.WriteLine($"{problem.Id}: max |Δ log p| over {ids.Length} positions = {worst:E2}");
            Assert.True(worst < 1e-4, $"{problem.Id}: max |Δ log p| = {worst}");

            // The whole greedy solution, through each engine's own KV cache.
            var request = new CompletionRequest(prompt, 1, 256) { Temperature = 0 };
            var torch = (await engine.CompleteAsync(request))[0];
            var cpp = (await llama.CompleteAsync(request))[0];
            output.WriteLine($"{problem.Id}: {torch.TokenCount} tokens: {torch.Text.Replace("\n", " | ")}");
            Assert.Equal(torch.TokenIds, cpp.TokenIds);
            Assert.Equal(torch.Text, cpp.Text);
            for (int i = 0; i < torch.TokenCount; i++)
                Assert.True(Math.Abs(torch.TokenLogProbs[i] - cpp.TokenLogProbs[i]) < 1e-4, $"token {i}: {torch.TokenLogProbs[i]} vs {cpp.TokenLogProbs[i]}");
        }
    }
}
