using System.Text.Json.Nodes;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Tests.Generation;
using Reasoner.Training;
using Reasoner.Training.Preference;
using Reasoner.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

public class LoraTests
{
    private static readonly int[] Tokens = [3, 7, 11, 5, 9, 2, 8];

    private static Tensor Logits(CausalLanguageModel model)
    {
        using var noGrad = no_grad();
        model.eval();
        return model.Forward(tensor(Tokens.Select(t => (long)t).ToArray(), [1, Tokens.Length]));
    }

    [Fact]
    public void AttachedAdaptersStartAtTheBaseModelAndOnlyTheyTrain()
    {
        using var base_ = new TinyCheckpoint();
        using var model = CheckpointLoader.LoadModel(base_.Path);
        var before = Logits(model);
        int baseParameters = model.parameters().Count();
        var lora = LoraAdapters.Attach(model, rank: 2, alpha: 4);

        Assert.Equal(7 * model.Config.NumHiddenLayers, lora.ByModule.Count); // q, k, v, o, gate, up, down in every layer
        Assert.True(before.allclose(Logits(model), rtol: 0, atol: 0), "B = 0: the adapted model is the base model");
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        Assert.Equal(2 * lora.ByModule.Count, trainable.Count);
        Assert.Equal(baseParameters + trainable.Count, model.parameters().Count());
    }

    [Fact]
    public void SavedAdaptersUsePeftNamesAndLoadMergedIntoTheBaseGivingTheAdaptedModelsLogits()
    {
        using var base_ = new TinyCheckpoint();
        using var model = CheckpointLoader.LoadModel(base_.Path);
        var lora = LoraAdapters.Attach(model, rank: 2, alpha: 4);
        using (no_grad())
            foreach (var adapter in lora.ByModule.Values) adapter.lora_B.copy_(randn_like(adapter.lora_B) * 0.1);
        var adapted = Logits(model);
        Assert.False(adapted.allclose(Logits(CheckpointLoader.LoadModel(base_.Path)), rtol: 0, atol: 1e-4), "random B changes the model");

        using var dir = new TestData.TempDirectory();
        lora.Save(dir.Path, base_.Path);
        TinyModels.ArithmeticTokenizer.Save(dir.Path);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, LoraAdapters.ConfigFile)))!;
        Assert.Equal("LORA", (string)config["peft_type"]!);
        Assert.Equal(2, (int)config["r"]!);
        using (var reader = SafeTensorsReader.Open(Path.Combine(dir.Path, LoraAdapters.WeightsFile)))
        {
            Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", reader.Entries.Keys);
            Assert.Equal([2L, model.Config.HiddenSize], reader.Entries["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].Shape);
            Assert.Contains("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight", reader.Entries.Keys);
        }
        Assert.True(LoraAdapters.IsAdapterFolder(dir.Path));
        var loaded = CheckpointLoader.Load(dir.Path);
        using (loaded.Model)
            Assert.True(adapted.allclose(Logits(loaded.Model), rtol: 1e-4, atol: 1e-5), "merged weights give the adapted logits");
    }

    [Fact]
    public void AnAdapterForAModuleTheBaseLacksIsRefused()
    {
        using var base_ = new TinyCheckpoint();
        using var dir = new TestData.TempDirectory();
        using (var model = CheckpointLoader.LoadModel(base_.Path))
            LoraAdapters.Attach(model, 2, 4).Save(dir.Path, base_.Path);
        var path = Path.Combine(dir.Path, LoraAdapters.WeightsFile);
        SafeTensors.Write(path, [("base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight", zeros(2, 4)), ("base_model.model.model.layers.9.self_attn.q_proj.lora_B.weight", zeros(4, 2))]);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.LoadModel(dir.Path));
        Assert.Contains("adapts no projection", e.Message);
    }

    [Fact]
    public void ALoraDpoRunStoppedAndResumedEndsWithTheAdaptersOfAnUninterruptedOne()
    {
        var pairs = Enumerable.Range(0, 6).Select(i => new TokenizedPair($"p{i}", [1, 2 + i % 7, 3], [5 + i % 4, 20, 21], [5 + i % 4, 30, 31, 32], 4, 1)).ToArray();
        var settings = new DpoSettings { LearningRate = 1e-2, Epochs = 2, Batch = 2, SaveEvery = 2, LoraRank = 2 };
        using var checkpoint = new TinyCheckpoint();
        (CausalLanguageModel, LoraAdapters) Fresh()
        {
            var model = CheckpointLoader.LoadModel(checkpoint.Path);
            var lora = LoraAdapters.Attach(model, 2, 16);
            // A is drawn from the global generator, which parallel tests share: pin it so every copy starts alike.
            using (no_grad())
                foreach (var adapter in lora.ByModule.Values)
                    adapter.lora_A.copy_(arange(adapter.lora_A.numel(), dtype: ScalarType.Float32).sin().reshape(adapter.lora_A.shape) * 0.1);
            return (model, lora);
        }
        var (straight, straightLora) = Fresh();
        new StepDpoTrainer(straight, TinyTraining.Pad, settings).Train(pairs, []);

        using var dir = new TestData.TempDirectory();
        using var cancel = new CancellationTokenSource();
        var (stopped, _) = Fresh();
        new StepDpoTrainer(stopped, TinyTraining.Pad, settings)
        {
            OnStep = (step, _, _) => { if (step.Step == 3) cancel.Cancel(); },
            SaveCheckpoint = (t, p) => TrainingCheckpoint.Save(dir.Path, t, TinyModels.ArithmeticTokenizer, p),
        }.Train(pairs, [], cancel: cancel.Token);
        var (resumed, resumedLora) = Fresh();
        new StepDpoTrainer(resumed, TinyTraining.Pad, settings) { RestoreCheckpoint = t => TrainingCheckpoint.Restore(dir.Path, t) }.Train(pairs, []);

        Assert.True(straightLora.ByModule.Values.Any(a => a.lora_B.abs().sum().item<float>() > 0), "the adapters trained");
        foreach (var (name, adapter) in straightLora.ByModule)
            Assert.True(adapter.lora_B.allclose(resumedLora.ByModule[name].lora_B, rtol: 1e-4, atol: 1e-6), name);
        straight.Dispose();
        stopped.Dispose();
        resumed.Dispose();
    }
}
