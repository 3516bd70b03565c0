"""Feed em tempo real: ``/ws/events/`` (Channels) e ``/socket.io/`` (Socket.IO).

* ``protocol.py``: mensagens do cliente e do servidor, filtro e retomada pelo cursor;
* ``auth.py``: credenciais (sessão ou JWT) e revalidação;
* ``origins.py``: as origens aceitas, uma regra para os dois transportes;
* ``hub.py``: o leitor único do grupo ``events`` por processo, que repassa aos sockets;
* ``frames.py``: os quadros de cada protocolo, com o JSON do evento feito uma vez;
* ``consumer.py``: o socket (Channels), que só traduz quadros para o protocolo;
* ``socketio.py``: o servidor Socket.IO (python-socketio), alimentado pelo mesmo hub;
* ``publish.py``: a difusão depois da gravação.
"""
