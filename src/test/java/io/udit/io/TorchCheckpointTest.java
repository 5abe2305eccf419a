package io.udit.io;

import io.udit.engine.Engine;
import io.udit.engine.Tensors;
import io.udit.testing.Fixture;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TorchCheckpointTest {
    @BeforeAll
    static void init() {
        Engine.init();
    }

    @Test
    void readsFixtureStateDictExactly() throws Exception {
        Fixture fx = Fixture.tiny();
        long t0 = System.nanoTime();
        LinkedHashMap<String, Tensor> sd = TorchCheckpoint.readStateDict(fx.checkpoint(), null);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        List<Fixture.Entry> params = fx.group("param");
        assertEquals(params.size(), sd.size(), "tensor count");
        List<String> expectedKeys = new ArrayList<>();
        for (Fixture.Entry e : params) expectedKeys.add(e.name().substring("param/".length()));
        assertEquals(expectedKeys, new ArrayList<>(sd.keySet()), "key order");
        for (Fixture.Entry e : params) {
            String key = e.name().substring("param/".length());
            Tensor actual = sd.get(key);
            Tensor expected = fx.tensor(e.name());
            assertArrayEquals(e.shape(), Tensors.shape(actual), key + " shape");
            assertTrue(actual.scalar_type().intern() == expected.scalar_type().intern(), key + " dtype");
            assertTrue(actual.is_contiguous(), key + " contiguous");
            assertArrayEquals(Tensors.toBytes(expected), Tensors.toBytes(actual), key + " values");
        }
        System.out.println("read " + sd.size() + " tensors from the fixture in " + ms + " ms");
    }
}
