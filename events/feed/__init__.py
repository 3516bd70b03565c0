"""Feed em tempo real (``/ws/events/``).

* ``protocol.py``: mensagens do cliente e do servidor, filtro e retomada pelo cursor;
* ``auth.py``: credenciais (sessão ou JWT) e revalidação;
* ``hub.py``: o leitor único do grupo ``events`` por processo, que repassa aos sockets;
* ``consumer.py``: o socket (Channels), que só traduz quadros para o protocolo;
* ``publish.py``: a difusão depois da gravação.
"""
