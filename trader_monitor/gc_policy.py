"""Política do coletor de lixo do processo servidor (as travadas de cauda do laço de eventos).

Uma coleta completa (geração 2) do CPython percorre todos os objetos rastreados com o GIL
preso: o laço de eventos para inteiro. Com o Django, a aplicação e o armazenamento
carregados, são centenas de milhares de objetos de vida longa, e cada coleta completa
custa dezenas a centenas de milissegundos (``bench/OTIMIZACOES.md``, issue 19).

Políticas (``GC_POLICY``):

* ``default`` — o coletor como vem;
* ``freeze`` — depois de carregar a aplicação, uma coleta e ``gc.freeze()``: os objetos da
  inicialização vão para a geração permanente e nunca mais são percorridos;
* ``freeze-survivors`` — o mesmo, e ao fim de cada coleta completa os sobreviventes
  também são congelados: cada objeto de vida longa é percorrido por uma coleta completa
  e depois sai das seguintes (coletas completas frequentes, mas só com o que é novo).
  O custo: um ciclo de lixo formado só por objetos já congelados não é recolhido (o
  contador de referências ainda libera tudo o que não é ciclo).
"""

from __future__ import annotations

import gc
from typing import Any

POLICIES = ("default", "freeze", "freeze-survivors")


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def apply_gc_policy(policy: str) -> None:
    """Aplica a política (chamada uma vez, no fim do carregamento do ``asgi.py``)."""
    if policy not in POLICIES:
        raise ValueError(f"GC_POLICY desconhecida: {policy!r} (use {', '.join(POLICIES)})")
    if policy == "default":
        return
    gc.collect()
    gc.freeze()
    # Uma coleta com tudo congelado zera a conta de objetos "de vida longa" do CPython (a
    # próxima coleta completa vem quando os novos passam de 25% dela): sem isso, a 1ª
    # coleta completa só viria depois de ~25% do que foi congelado, e seria longa.
    gc.collect()
    if policy == "freeze-survivors":
        # A coleta completa passa a ser considerada a cada coleta da geração 1 (o padrão é a
        # cada 10): como só percorre o que não está congelado, sai pequena e frequente.
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, 1)
        if _freeze_survivors not in gc.callbacks:
            gc.callbacks.append(_freeze_survivors)
