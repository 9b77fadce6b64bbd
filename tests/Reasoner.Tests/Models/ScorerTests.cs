using System.Text.Json.Nodes;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Scoring;
using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

/// <summary>Scorer models (…ForTokenClassification, one label): the layout HF reads, and step scores through the forked prompt cache.</summary>
public class ScorerTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AScorerStartsAsItsPolicysDecoderAndSavesAndLoadsAsTokenClassification(bool tied)
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        using var policy = TinyModels.Create(TinyModels.Config(vocabSize: tokenizer.VocabSize, tied: tied), seed: 3);
        using var scorer = CausalLanguageModel.ScorerFrom(policy);
        var names = scorer.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("score.weight", names);
        Assert.Contains("score.bias", names);
        Assert.DoesNotContain("lm_head.weight", names);
        var ids = tensor(new long[] { 3, 7, 11, 5 }, [1, 4]);
        using (no_grad())
        {
            Assert.True(policy.HiddenStatesRightPadded(ids).allclose(scorer.HiddenStatesRightPadded(ids)), "the decoder is the policy's");
            Assert.Throws<InvalidOperationException>(() => scorer.Logits(scorer.HiddenStatesRightPadded(ids)));
            Assert.Throws<InvalidOperationException>(() => policy.Scores(policy.HiddenStatesRightPadded(ids)));
        }

        using var dir = new TestData.TempDirectory();
        CheckpointWriter.Save(scorer, tokenizer, dir.Path);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!;
        Assert.Equal("LlamaForTokenClassification", (string)config["architectures"]![0]!);
        Assert.Equal("LABEL_0", (string)config["id2label"]!["0"]!);
        using (var stored = SafeTensorsReader.Open(Path.Combine(dir.Path, "model.safetensors")))
        {
            Assert.Equal([1L, policy.Config.HiddenSize], stored.Entries["score.weight"].Shape);
            Assert.Equal([1L], stored.Entries["score.bias"].Shape);
            Assert.DoesNotContain("lm_head.weight", stored.Entries.Keys);
        }
        using var loaded = CheckpointLoader.LoadModel(dir.Path);
        Assert.True(loaded.Config.IsScorer);
        using (no_grad())
            Assert.True(scorer.Scores(scorer.HiddenStatesRightPadded(ids)).allclose(loaded.Scores(loaded.HiddenStatesRightPadded(ids))));
    }

    [Fact]
    public void AConfigWithManyLabelsIsRefused()
    {
        var json = TinyModels.Config().AsScorer().ToJson().Replace("\"LABEL_0\": 0", "\"LABEL_0\": 0, \"LABEL_1\": 1").Replace("\"0\": \"LABEL_0\"", "\"0\": \"LABEL_0\", \"1\": \"LABEL_1\"");
        var error = Assert.Throws<NotSupportedException>(() => ModelConfig.Parse(json));
        Assert.Contains("2 labels", error.Message);
    }

    /// <summary>Scores through the forked prompt cache equal a plain full forward's at each step's last token.</summary>
    [Fact]
    public async Task StepScoresThroughTheForkedPromptEqualAFullForwardAtEachStepsEnd()
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        using var policy = TinyModels.Create(TinyModels.Config(vocabSize: tokenizer.VocabSize), seed: 5);
        using var scorer = CausalLanguageModel.ScorerFrom(policy);
        using var engine = new ScorerEngine(scorer, tokenizer, "tiny");
        const string prompt = "Question: What is 12 + 35?\n";
        IReadOnlyList<string>[] candidates = [["12 + 35 = 47.", "The answer is 47."], ["12 + 35 = 46."], ["1 + 1 = 2.", "2 + 2 = 4.", "The answer is 4."]];
        var scores = await engine.ScoreStepsAsync(prompt, candidates, "\n");

        for (int c = 0; c < candidates.Length; c++)
        {
            var pieces = ScorerEngine.StepPieces(tokenizer, candidates[c], "\n");
            var ids = tokenizer.Encode(prompt).Concat(pieces.SelectMany(p => p)).Select(i => (long)i).ToArray();
            using var noGrad = no_grad();
            var full = scorer.Scores(scorer.HiddenStatesRightPadded(tensor(ids, [1, ids.Length])))[0].to(ScalarType.Float64).data<double>().ToArray();
            Assert.Equal(candidates[c].Count, scores[c].Length);
            int end = tokenizer.Encode(prompt).Length - 1;
            for (int s = 0; s < pieces.Count; s++)
            {
                end += pieces[s].Length;
                Assert.Equal(full[end], scores[c][s], 1e-4); // a tolerance, not rounding to 4 places, which can split two float32 results 1e-6 apart
            }
        }
    }

    [Fact]
    public async Task TheVerifierOraclesPreferencesOfBothOrdersSumToOne()
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        using var policy = TinyModels.Create(TinyModels.Config(vocabSize: tokenizer.VocabSize), seed: 8);
        using var scorer = CausalLanguageModel.ScorerFrom(policy);
        using var engine = new ScorerEngine(scorer, tokenizer, "tiny") { ReadsBarePrompt = true };
        var oracle = new Reasoner.Training.Onpo.VerifierOracle(engine, new Reasoner.Core.Prompts.PromptLibrary(Reasoner.Core.Prompts.PromptLibrary.FindDefaultRoot()));
        var problem = new Reasoner.Core.Problems.Problem("p", "arith", "What is 2 + 3?", "5", Reasoner.Core.Problems.AnswerKind.Number);
        var a = new Reasoner.Training.Onpo.OracleSolution("What is 2 + 3?", "2 + 3 = 5.\nThe answer is 5.", true) { Problem = problem };
        var b = new Reasoner.Training.Onpo.OracleSolution("What is 2 + 3?", "2 + 3 = 6.\nThe answer is 6.", false) { Problem = problem };
        double ab = await oracle.PreferAsync(a, b), ba = await oracle.PreferAsync(b, a);
        Assert.Equal(1.0, ab + ba, 1e-5); // each call runs both rows in float32, in the other order
        Assert.NotEqual(0.5, ab);
        Assert.Equal(0.5, await oracle.PreferAsync(a, a), 5);
    }
}
