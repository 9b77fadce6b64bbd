using Reasoner.Cli.Viewing;
using Reasoner.Core.Export;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
using Reasoner.Tests.Judging;
using Reasoner.Tests.Models;

namespace Reasoner.Tests.Viewing;

/// <summary>What a trained policy makes of a tree's steps, on tiny random-weight checkpoints: β·(log π − log π_ref), cached.</summary>
public sealed class TrainedModelScoresTests : IDisposable
{
    readonly TestData.TempDirectory reference = new(), policy = new(), run = new();
    readonly PromptLibrary prompts = new(PromptLibrary.FindDefaultRoot());

    public TrainedModelScoresTests()
    {
        foreach (var (folder, seed) in new[] { (reference.Path, 11), (policy.Path, 12) })
        {
            using var model = TinyModels.Create(TinyModels.Config(vocabSize: TinyModels.ArithmeticTokenizer.VocabSize), seed: seed);
            CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, folder);
        }
        File.WriteAllText(Path.Combine(policy.Path, "dpo.json"), $$"""{ "method": "step-dpo", "base_model": "{{reference.Path}}", "settings": { "beta": 0.1 } }""");
    }

    public void Dispose()
    {
        reference.Dispose();
        policy.Dispose();
        run.Dispose();
    }

    [Fact]
    public async Task Each_step_gets_beta_times_its_log_ratio_against_the_reference_and_the_result_is_cached()
    {
        var tree = DataQualityTests.Tree();
        using var scores = new TrainedModelScores(run.Path, prompts);
        var set = await scores.ScoreAsync(1, tree, policy.Path, CancellationToken.None);

        Assert.Equal(("step-dpo", 0.1), (set.Method, set.Beta));
        Assert.Null(set.Scorer);
        Assert.Equal(tree.Nodes.Count - 1, set.PolicyReward!.Count);

        // By hand for node 2, the second step under the first: both models score it after the state search continued.
        var node = tree.Nodes[2];
        var state = PromptText.State(prompts.RenderSolve(tree.Problem, bare: true), tree.Steps(tree.Nodes[node.ParentId]));
        using var mine = TorchEngine.Load(policy.Path);
        using var theirs = TorchEngine.Load(reference.Path);
        var expected = 0.1 * ((await mine.ScoreAsync(state, [node.Text + "\n"]))[0].LogProb - (await theirs.ScoreAsync(state, [node.Text + "\n"]))[0].LogProb);
        Assert.Equal(expected, set.PolicyReward[2], 4);
        Assert.NotEqual(0, expected, 3);

        var cached = Assert.Single(Directory.EnumerateFiles(Path.Combine(run.Path, TrainedModelScores.CacheFolder), "*.json", SearchOption.AllDirectories));
        using var again = new TrainedModelScores(run.Path, prompts);
        Assert.Equal(set.PolicyReward, (await again.ScoreAsync(1, tree, policy.Path, CancellationToken.None)).PolicyReward);
        Assert.Single(Directory.EnumerateFiles(Path.Combine(run.Path, TrainedModelScores.CacheFolder), "*.json", SearchOption.AllDirectories));
        Assert.True(File.Exists(cached));
    }

    [Fact]
    public async Task A_folder_that_is_neither_a_trained_policy_nor_a_scorer_is_refused()
    {
        using var scores = new TrainedModelScores(run.Path, prompts);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => scores.ScoreAsync(0, DataQualityTests.Tree(), reference.Path, CancellationToken.None));
        Assert.Contains("neither a trained policy", error.Message);
    }
}
